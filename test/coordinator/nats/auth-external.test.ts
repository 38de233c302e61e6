import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { compileAgentConfig } from "../../../agent/config.ts";
import { AgentDaemon } from "../../../agent/daemon.ts";
import { compileCoordinatorConfig } from "../../../coordinator/config.ts";
import { Coordinator } from "../../../coordinator/coordinator.ts";
import { EmbeddedNats } from "../../../coordinator/nats/embedded-nats.ts";
import { silentLogger } from "../../../protocol/logger.ts";
import { connectNats } from "../../../protocol/nats-connect.ts";

describe("NATS credentials with an external nats-server (the admin installs the users)", () => {
  let dir: string;
  /** Stands in for the production server: a nats-server this test configures, not the coordinator. */
  let server: EmbeddedNats;
  let usersFile: string;
  let url: string;
  let coordinator: Coordinator | undefined;
  let agent: AgentDaemon | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "memfarm-external-nats-"));
    mkdirSync(join(dir, "server"));
    usersFile = join(dir, "server", "memfarm-users.conf");
    writeFileSync(usersFile, "# no users yet: the server admits anyone\n");
    server = new EmbeddedNats({
      dataDir: join(dir, "server"),
      port: 0,
      authorizationFile: usersFile,
      log: silentLogger,
    });
    url = await server.start();
  });
  after(async () => {
    await agent?.stop();
    await coordinator?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("renders the users with the coordinator's own key; installed and reloaded, only they get in", async () => {
    const dataDir = join(dir, "data");
    coordinator = await Coordinator.start(
      compileCoordinatorConfig({ port: "0", dataDir, nats: url, lostAfter: "6" }, {}),
      silentLogger,
    );
    assert.equal(coordinator.managesNats, false);
    const issued = await coordinator.natsAuthority.issue("ext-agent");
    assert.equal(issued.serverReloaded, false, "the coordinator does not touch a server it does not run");
    // What the admin does: install the rendered include where the server reads it, and reload.
    copyFileSync(coordinator.natsAuthority.authorizationFile, usersFile);
    await server.reload();
    await assert.rejects(connectNats({ servers: [url] }, "anonymous"), /NATS refused the connection/);
    const credsFile = join(dir, "ext-agent.nk");
    writeFileSync(credsFile, issued.credentials, { mode: 0o600 });
    agent = new AgentDaemon(
      compileAgentConfig({
        nats: url,
        creds: credsFile,
        name: "ext-agent",
        memory: "4G",
        workDir: join(dir, "agent"),
      }),
      silentLogger,
    );
    await agent.start(); // registers: the coordinator, reconnected with its key, answers
    const response = await fetch(`${coordinator.httpUrl}/api/v1/agents`);
    const { agents } = (await response.json()) as { agents: { name: string; state: string }[] };
    assert.equal(agents.find((each) => each.name === "ext-agent")?.state, "online");
  });

  it("reports a users file the server cannot read, and the server keeps the users it had", async () => {
    writeFileSync(usersFile, 'authorization { users = [ { nkey: "UNOTAKEY" } ] }\n');
    await assert.rejects(server.reload(), /nats-server did not reload its config: .*Not a valid public nkey/);
    await assert.rejects(connectNats({ servers: [url] }, "anonymous"), /NATS refused the connection/);
  });
});
