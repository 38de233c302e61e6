import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { startFarm, type TestFarm } from "../../helpers/farm.ts";
import { type FakeSshHost, factsOutput, startFakeSshHost } from "./fake-ssh-host.ts";
import { logText, waitForHost } from "./host-api.ts";

/** The step sequence against ssh2's own Server playing hosts this machine cannot be. */
describe("hosts add against a fake SSH host", () => {
  let farm: TestFarm;
  let host: FakeSshHost | undefined;
  before(async () => {
    farm = await startFarm();
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });
  after(async () => {
    await farm?.stop();
  });

  const addFake = async (name: string, facts: string) => {
    host = await startFakeSshHost(facts);
    const response = await farm.api("/hosts", {
      body: { target: `ssh://farm@127.0.0.1:${host.port}`, name, identity: host.identity, acceptNew: true },
    });
    assert.equal(response.status, 202, JSON.stringify(response.body));
    return waitForHost(farm, name);
  };

  it("stops at facts when Node is missing, and says what to install", async () => {
    const result = await addFake("no-node", factsOutput({ node_path: null, node_version: null }));
    assert.equal(result.status, "failed");
    assert.equal(result.step, "facts");
    assert.match(result.error ?? "", /Node\.js is not installed.*install Node\.js 20 or newer/);
    assert.equal(
      farm.coordinator.store.natsCredentials.activeKeyOf("no-node"),
      null,
      "no credentials issued",
    );
    assert.equal(host?.commands.length, 1, "nothing ran after the facts");
  });

  it("stops at facts when Node is too old", async () => {
    const result = await addFake("old-node", factsOutput({ node_version: "v18.19.0" }));
    assert.match(result.error ?? "", /Node\.js v18\.19\.0 .* too old/);
  });

  it("stops at facts when the disk is full", async () => {
    const result = await addFake("full-disk", factsOutput({ disk_free_kb: "102400" }));
    assert.equal(result.step, "facts");
    assert.match(result.error ?? "", /only 0\.1 GiB free in \/home\/farm\/\.memfarm: free at least 2\.0 GiB/);
  });

  it("warns that a host without git and a compiler runs given interpreters only, and leaves nothing in force when the install fails", async () => {
    const result = await addFake("no-cc", factsOutput({ git: null, compiler: null, cgroup_memory: "no" }));
    const log = logText(result);
    assert.match(
      log,
      /\[facts\] warn git is missing: this host can run given interpreters \(--python\) only/,
    );
    assert.match(log, /\[facts\] warn no C compiler/);
    assert.match(log, /\[facts\] warn no usable cgroup memory controller/);
    assert.equal(result.status, "failed");
    assert.equal(result.step, "install", log);
    assert.match(result.error ?? "", /upload failed/);
    assert.equal(
      farm.coordinator.store.natsCredentials.activeKeyOf("no-cc"),
      null,
      "the issued key was revoked",
    );
  });

  it("refuses a home directory it could not quote into a unit file", async () => {
    const result = await addFake("odd-home", factsOutput({ home: '/home/a"b' }));
    assert.equal(result.step, "facts");
    assert.match(result.error ?? "", /home directory .* has characters/);
  });

  it("refuses a second operation on a host while one runs, and runs again after a failure", async () => {
    host = await startFakeSshHost(factsOutput({ node_path: null }));
    const body = {
      target: `ssh://farm@127.0.0.1:${host.port}`,
      name: "busy",
      identity: host.identity,
      acceptNew: true,
    };
    const first = await farm.api("/hosts", { body });
    const second = await farm.api("/hosts", { body });
    assert.equal(first.status, 202);
    assert.equal(second.status, 409, JSON.stringify(second.body));
    assert.match(second.body.error.message, /another operation is running on host busy/);
    assert.equal((await waitForHost(farm, "busy")).status, "failed");
    assert.equal((await farm.api("/hosts", { body })).status, 202, "safe to run again");
    await waitForHost(farm, "busy");
  });
});
