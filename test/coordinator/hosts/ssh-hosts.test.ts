import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { MEMFARM_VERSION, PROTOCOL_VERSION } from "../../../protocol/protocol-version.ts";
import type { AgentResource, HostResource } from "../../../protocol/resources.ts";
import { runCli } from "../../helpers/cli.ts";
import { finished, startFarm, type TestFarm } from "../../helpers/farm.ts";
import { processesOf, startSshd, type TestSshd, uidOf } from "./sshd.ts";

/**
 * The whole path against real OpenSSH servers on loopback: two hosts added at once (one pinned by
 * fingerprint, one --accept-new), a real job on a new agent, upgrade, remove.
 */
describe("hosts over SSH against real sshd", () => {
  let farm: TestFarm;
  let hostA: TestSshd;
  let hostB: TestSshd;
  before(async () => {
    farm = await startFarm();
    [hostA, hostB] = await Promise.all([startSshd(), startSshd()]);
  });
  after(async () => {
    await hostA?.stop();
    await hostB?.stop();
    await farm?.stop();
  });
  const env = () => ({ MEMFARM_URL: farm.url, MEMFARM_TOKEN: farm.token });

  it("adds two hosts at once, runs a job on one, upgrades it and removes both", async (t) => {
    const startedAt = Date.now();
    const [addA, addB] = await Promise.all([
      runCli(
        [
          "hosts",
          "add",
          hostA.target,
          "--identity",
          hostA.identityFile,
          "--name",
          "loop-a",
          "--labels",
          "site=loop-a",
          "--fingerprint",
          hostA.hostKeyFingerprint,
        ],
        env(),
      ),
      runCli(
        ["hosts", "add", hostB.target, "--identity", hostB.identityFile, "--name", "loop-b", "--accept-new"],
        env(),
      ),
    ]);
    assert.equal(addA.code, 0, addA.stdout + addA.stderr);
    assert.equal(addB.code, 0, addB.stdout + addB.stderr);
    for (const step of ["[connect]", "[facts]", "[install]", "[start]", "[register]"])
      assert.match(addA.stdout, new RegExp(step.replace(/[[\]]/g, "\\$&")));
    assert.match(addA.stdout, /loop-a is online/);
    assert.match(addB.stdout, /new, recorded \(--accept-new\)/);
    assert.ok(existsSync(`${hostA.home}/.memfarm/credentials.nk`));

    const listed = await runCli(["hosts", "--json"], env());
    const agents = (JSON.parse(listed.stdout) as { agents: AgentResource[] }).agents;
    const loopA = agents.find((agent) => agent.name === "loop-a");
    assert.equal(loopA?.state, "online");
    assert.equal(loopA?.labels.site, "loop-a");
    // The uploaded bundle says its release and protocol: the coordinator's own.
    assert.equal(loopA?.version, MEMFARM_VERSION);
    assert.equal(loopA?.protocolVersion, PROTOCOL_VERSION);
    const host = (await farm.api("/hosts/loop-a")).body as HostResource;
    assert.equal(host.status, "ok");
    assert.equal((host.facts as { nodeVersion: string }).nodeVersion, process.version);
    assert.match(host.hostKey ?? "", new RegExp(hostA.hostKeyFingerprint.replace(/[+/]/g, "\\$&")));

    const page = await (await fetch(`${farm.url}/hosts`)).text();
    assert.match(page, /Added over SSH/);
    assert.match(page, /loop-a is online/);

    const queued = await farm.submit({
      suite: "bigmem-smoke",
      python: "/usr/bin/python3",
      tests: ["test_bool"],
      labels: { site: "loop-a" },
    });
    const running = await farm.waitFor(queued.id, (job) => job.status === "running" || finished(job));
    t.diagnostic(`hosts add to a job running on the new host: ${Date.now() - startedAt} ms`);
    assert.equal(running.agent, "loop-a");
    const job = await farm.waitFor(queued.id, finished);
    assert.equal(job.status, "passed", `${job.error}`);

    const upgrade = await runCli(["hosts", "upgrade", "loop-a", "--identity", hostA.identityFile], env());
    assert.equal(upgrade.code, 0, upgrade.stdout + upgrade.stderr);
    assert.match(upgrade.stdout, /\[drain\]/);
    assert.match(upgrade.stdout, /loop-a is online/);
    const afterUpgrade = (await farm.api("/agents")).body.agents.find(
      (agent: AgentResource) => agent.name === "loop-a",
    );
    assert.equal(afterUpgrade.state, "online", "undrained after the upgrade");

    for (const [name, sshd] of [
      ["loop-a", hostA],
      ["loop-b", hostB],
    ] as const) {
      const removed = await runCli(["hosts", "remove", name, "--identity", sshd.identityFile], env());
      assert.equal(removed.code, 0, removed.stdout + removed.stderr);
      assert.equal(existsSync(`${sshd.home}/.memfarm`), false, "uninstalled");
      assert.deepEqual(processesOf(uidOf(sshd.user)), [], "no agent left running");
      assert.equal(farm.coordinator.store.natsCredentials.activeKeyOf(name), null, "credentials revoked");
      assert.equal(((await farm.api(`/hosts/${name}`)).body as HostResource).status, "removed");
    }
  });
});
