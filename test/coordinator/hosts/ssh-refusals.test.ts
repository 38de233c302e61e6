import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { HostResource } from "../../../protocol/resources.ts";
import { runCli } from "../../helpers/cli.ts";
import { startFarm, type TestFarm } from "../../helpers/farm.ts";
import { freePort } from "../../helpers/free-port.ts";
import { processesOf, startSshd, type TestSshd, uidOf } from "./sshd.ts";

/** Refusals against a real sshd: each ends with a clear message, no agent started, nothing registered. */
describe("hosts add refusals", () => {
  let farm: TestFarm;
  let sshd: TestSshd;
  before(async () => {
    farm = await startFarm();
    sshd = await startSshd();
  });
  after(async () => {
    await sshd?.stop();
    await farm?.stop();
  });
  const env = () => ({ MEMFARM_URL: farm.url, MEMFARM_TOKEN: farm.token });
  const add = (args: string[]) => runCli(["hosts", "add", ...args], env());

  /** Nothing of the host in force: no key issued, no agent joined, nothing installed or running. */
  const assertNothingRegistered = async (name: string) => {
    assert.equal(farm.coordinator.store.natsCredentials.activeKeyOf(name), null);
    const agents = (await farm.api("/agents")).body.agents as { name: string }[];
    assert.equal(
      agents.some((agent) => agent.name === name),
      false,
    );
    assert.equal(existsSync(`${sshd.home}/.memfarm/credentials.nk`), false);
    assert.deepEqual(processesOf(uidOf(sshd.user)), []);
  };

  it("stops at first contact and prints the host key's fingerprint", async () => {
    const run = await add([sshd.target, "--identity", sshd.identityFile, "--name", "first"]);
    assert.equal(run.code, 6, run.stdout + run.stderr);
    assert.ok(run.stderr.includes(sshd.hostKeyFingerprint), run.stderr);
    assert.match(run.stderr, /failed at step connect: first contact/);
    assert.match(run.stderr, /--fingerprint/);
    assert.equal(farm.coordinator.store.hosts.pinnedKey("127.0.0.1", sshd.port), null, "nothing recorded");
    await assertNothingRegistered("first");
  });

  it("refuses a key other than the one given with --fingerprint", async () => {
    const wrong = `SHA256:${"A".repeat(43)}`;
    const run = await add([
      sshd.target,
      "--identity",
      sshd.identityFile,
      "--name",
      "wrongfp",
      "--fingerprint",
      wrong,
    ]);
    assert.equal(run.code, 6);
    assert.match(run.stderr, /not the SHA256:A+ given with --fingerprint; nothing was run/);
    await assertNothingRegistered("wrongfp");
  });

  it("refuses loudly a host key that changed, even with --accept-new", async () => {
    farm.coordinator.store.hosts.pinKey("127.0.0.1", sshd.port, {
      type: "ssh-ed25519",
      fingerprint: `SHA256:${"B".repeat(43)}`,
    });
    try {
      const run = await add([
        sshd.target,
        "--identity",
        sshd.identityFile,
        "--name",
        "changed",
        "--accept-new",
      ]);
      assert.equal(run.code, 6);
      assert.match(run.stderr, /HOST KEY OF .* HAS CHANGED/);
      assert.ok(run.stderr.includes(sshd.hostKeyFingerprint));
      assert.equal(
        farm.coordinator.store.hosts.pinnedKey("127.0.0.1", sshd.port)?.fingerprint,
        `SHA256:${"B".repeat(43)}`,
      );
      const host = (await farm.api("/hosts/changed")).body as HostResource;
      assert.equal(host.status, "failed");
      assert.equal(host.step, "connect");
      await assertNothingRegistered("changed");
    } finally {
      farm.coordinator.store.hosts.unpinKey("127.0.0.1", sshd.port);
    }
  });

  it("names the identity the server refused, and pins nothing", async () => {
    const run = await add([
      sshd.target,
      "--identity",
      sshd.strangerIdentityFile,
      "--name",
      "stranger",
      "--accept-new",
    ]);
    assert.equal(run.code, 6);
    assert.match(run.stderr, new RegExp(`refused the identity for user ${sshd.user}.*authorized_keys`));
    assert.equal(farm.coordinator.store.hosts.pinnedKey("127.0.0.1", sshd.port), null);
    await assertNothingRegistered("stranger");
  });

  it("says when nothing listens on the port", async () => {
    const port = await freePort();
    const run = await add([
      `ssh://${sshd.user}@127.0.0.1:${port}`,
      "--identity",
      sshd.identityFile,
      "--name",
      "nobody",
      "--accept-new",
    ]);
    assert.equal(run.code, 6);
    assert.match(run.stderr, /nothing listens on 127\.0\.0\.1:\d+ \(connection refused\)/);
    await assertNothingRegistered("nobody");
  });

  it("refuses user names, hosts and names with shell metacharacters before connecting", async () => {
    const hostile = [
      ["ssh://ro;ot@127.0.0.1"],
      ["ssh://$(id)@127.0.0.1"],
      ["ssh://root@127.0.0.1;reboot"],
      ["ssh://root@`id`.example.org"],
      ["ssh://root@-oProxyCommand=x"],
      [`ssh://root@127.0.0.1:22'`],
      [sshd.target, "--name", "a;b"],
      [sshd.target, "--labels", "k=$(id)"],
    ];
    for (const args of hostile) {
      const run = await add([...args, "--identity", sshd.identityFile, "--accept-new"]);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /not|neither|must/, run.stderr);
    }
    assert.deepEqual((await farm.api("/hosts")).body.hosts.map((host: HostResource) => host.name).sort(), [
      "changed",
      "first",
      "nobody",
      "stranger",
      "wrongfp",
    ]);
    assert.equal(farm.coordinator.store.hosts.pinnedKey("127.0.0.1", sshd.port), null);
    await assertNothingRegistered("root");
  });
});
