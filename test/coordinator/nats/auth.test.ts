import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type NatsConnection, nkeys, PermissionViolationError } from "@nats-io/transport-node";
import { natsAuthPaths } from "../../../coordinator/nats/credentials/nats-authority.ts";
import { createLogger, type Logger } from "../../../protocol/logger.ts";
import { connectNats } from "../../../protocol/nats-connect.ts";
import { formatSeedFile } from "../../../protocol/nats-credentials.ts";
import { inboxPrefixFor, Subjects } from "../../../protocol/subjects.ts";
import { finished, startFarm, type TestFarm } from "../../helpers/farm.ts";
import { findTestPython } from "../../helpers/python.ts";

/** Everything the server refused on `nc` while `act` ran (it reports refusals asynchronously). */
async function refusalsDuring(nc: NatsConnection, act: () => void | Promise<void>): Promise<string[]> {
  const refused: string[] = [];
  const watching = (async () => {
    for await (const status of nc.status()) {
      if (status.type === "error" && status.error instanceof PermissionViolationError) {
        refused.push(`${status.error.operation} ${status.error.subject}`);
      }
    }
  })();
  await act();
  await nc.flush(); // the server answers PING after the -ERR of everything sent before it
  await new Promise((resolve) => setTimeout(resolve, 100));
  void watching;
  return refused;
}

describe("NATS credentials: each agent is its own NKey user with its own subjects", () => {
  let farm: TestFarm;
  let nats: string[];
  /** Credentials issued through the API for a second agent, as `memfarm agents creds` gets them. */
  let otherCreds: string;

  const issue = async (name: string): Promise<string> => {
    const response = await farm.api(`/agents/${name}/credentials`, { method: "POST" });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    const file = join(farm.dir, `${name}.nk`);
    writeFileSync(file, response.body.credentials as string, { mode: 0o600 });
    return file;
  };
  const connectAs = (name: string, credsFile: string | undefined, log?: Logger) =>
    connectNats({ servers: nats, credsFile }, `test-${name}`, { inboxPrefix: inboxPrefixFor(name), log });

  before(async () => {
    farm = await startFarm({ agentName: "agent-a", memory: "8G" });
    nats = farm.coordinator.natsUrls;
    otherCreds = await issue("agent-b");
  });
  after(async () => {
    await farm?.stop();
  });

  it("runs a job through an agent that connects with its own credentials", async () => {
    const python = findTestPython();
    const job = await farm.waitFor(
      (await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"] })).id,
      finished,
    );
    assert.equal(job.status, "passed", job.error ?? "");
    assert.equal(job.agent, "agent-a");
  });

  it("keeps seeds out of the coordinator's database and in 0600 files", () => {
    const paths = natsAuthPaths(join(farm.dir, "data"));
    const localSeed = readFileSync(paths.agentSeed("agent-a"), "utf8").match(/^SU\w+$/m)?.[0];
    assert.ok(localSeed, "the local agent's file holds its seed");
    assert.equal(statSync(paths.agentSeed("agent-a")).mode & 0o777, 0o600);
    assert.equal(statSync(paths.coordinatorSeed).mode & 0o777, 0o600);
    assert.equal(statSync(paths.credentialsDir).mode & 0o777, 0o700);
    const database = readFileSync(join(farm.dir, "data", "memfarm.sqlite")).toString("latin1");
    assert.equal(database.includes(localSeed), false, "the seed is not in SQLite");
    const authorization = readFileSync(paths.authorizationFile, "utf8");
    assert.match(authorization, /memfarm\.agents\.agent-b\.>/);
  });

  it("refuses a connection without credentials, with unknown ones, and with a garbled file", async () => {
    await assert.rejects(
      connectNats({ servers: nats }, "anonymous"),
      /NATS refused the connection: .*pass --creds FILE/,
    );
    const unknown = join(farm.dir, "unknown.nk");
    writeFileSync(
      unknown,
      formatSeedFile(new TextDecoder().decode(nkeys.createUser().getSeed()), ["not issued"]),
    );
    await assert.rejects(connectAs("agent-x", unknown), (error: Error) => {
      assert.match(error.message, /^NATS refused the credentials in .*unknown\.nk: Authorization Violation/);
      return true;
    });
    const garbled = join(farm.dir, "garbled.nk");
    writeFileSync(garbled, "hello\n");
    await assert.rejects(connectAs("agent-x", garbled), /garbled\.nk is not a NATS credentials file/);
    const damaged = join(farm.dir, "damaged.nk");
    const seed = readFileSync(otherCreds, "utf8").match(/^SU\w+$/m)?.[0] ?? "";
    writeFileSync(damaged, `${seed.slice(0, -4)}AAAA\n`);
    await assert.rejects(connectAs("agent-x", damaged), /damaged\.nk holds a damaged NKey seed/);
    await assert.rejects(
      connectAs("agent-x", join(farm.dir, "missing.nk")),
      /cannot read .*missing\.nk \(ENOENT\)/,
    );
  });

  it("lets an agent speak as itself, and refuses it the coordinator's and other agents' subjects", async () => {
    const logged: string[] = [];
    const nc = await connectAs("agent-b", otherCreds, createLogger({ write: (line) => logged.push(line) }));
    try {
      const own = await refusalsDuring(nc, async () => {
        nc.publish(Subjects.reports("agent-b"), "{}");
        nc.subscribe(Subjects.assign("agent-b"));
        nc.subscribe(`${inboxPrefixFor("agent-b")}.>`);
      });
      assert.deepEqual(own, []);
      const impersonating = await refusalsDuring(nc, () => {
        nc.publish(Subjects.assign("agent-a"), "{}"); // the coordinator's word to agent-a
        nc.publish(Subjects.heartbeat("agent-a"), "{}");
        nc.publish(Subjects.reports("agent-a"), "{}");
        nc.publish("$JS.API.STREAM.NAMES", "{}");
      });
      assert.deepEqual(impersonating.sort(), [
        "publish $JS.API.STREAM.NAMES",
        `publish ${Subjects.assign("agent-a")}`,
        `publish ${Subjects.heartbeat("agent-a")}`,
        `publish ${Subjects.reports("agent-a")}`,
      ]);
      const eavesdropping = await refusalsDuring(nc, () => {
        nc.subscribe(Subjects.assign("agent-a"));
        nc.subscribe(`${inboxPrefixFor("agent-a")}.>`);
        nc.subscribe("_INBOX.>"); // the coordinator's replies
        nc.subscribe(Subjects.heartbeat("*"));
      });
      assert.deepEqual(eavesdropping.sort(), [
        "subscription _INBOX.>",
        `subscription ${inboxPrefixFor("agent-a")}.>`,
        `subscription ${Subjects.assign("agent-a")}`,
        `subscription ${Subjects.heartbeat("*")}`,
      ]);
      assert.ok(
        logged.some((line) =>
          /NATS refused a message: permission violation operation=publish subject=memfarm\.agent\.agent-a\.assign/.test(
            line,
          ),
        ),
        logged.join("\n"),
      );
      await assert.rejects(
        nc.request(Subjects.register("agent-a"), "{}", { timeout: 2000 }),
        /Permissions Violation for Publish to "memfarm\.agents\.agent-a\.register"/,
      );
    } finally {
      await nc.close();
    }
  });

  it("revoking an agent drops its connection at once and refuses it from then on", async () => {
    const creds = await issue("agent-c");
    const nc = await connectAs("agent-c", creds);
    const closed = nc.closed();
    const revoked = await farm.api("/agents/agent-c/revoke", { method: "POST" });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(revoked.body.serverReloaded, true);
    await Promise.race([
      closed,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("still connected 10 s after revoke")), 10_000),
      ),
    ]);
    await assert.rejects(connectAs("agent-c", creds), /NATS refused the credentials in .*agent-c\.nk/);
    const again = await farm.api("/agents/agent-c/revoke", { method: "POST" });
    assert.equal(again.status, 404);
    // Other agents keep their connections and rights.
    assert.equal(farm.agent.state, "running");
    const agents = (await farm.api("/agents")).body.agents as { name: string; state: string }[];
    assert.equal(agents.find((agent) => agent.name === "agent-a")?.state, "online");
  });

  it("issuing again replaces the agent's key: the old file stops working", async () => {
    const first = await issue("agent-d");
    const firstCopy = join(farm.dir, "agent-d-first.nk");
    writeFileSync(firstCopy, readFileSync(first));
    const second = await issue("agent-d");
    await assert.rejects(connectAs("agent-d", firstCopy), /NATS refused the credentials/);
    const nc = await connectAs("agent-d", second);
    await nc.close();
  });

  it("needs the admin token and a valid agent name to issue or revoke", async () => {
    const anonymous = await farm.api("/agents/agent-e/credentials", { method: "POST", token: null });
    assert.equal(anonymous.status, 401);
    const badName = await farm.api("/agents/..%2Fetc/credentials", { method: "POST" });
    assert.equal(badName.status, 400);
    assert.equal(badName.body.error.field, "name");
  });
});
