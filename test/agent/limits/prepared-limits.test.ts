import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { CgroupLimit } from "../../../agent/limits/cgroup-limit.ts";
import { defaultV1Root, detectCgroupSupport } from "../../../agent/limits/cgroup-support.ts";
import type { JobLimit } from "../../../agent/limits/job-limit.ts";
import { launchInLimit } from "../../../agent/limits/launch-in-limit.ts";
import { PreparedLimits } from "../../../agent/limits/prepared-limits.ts";
import { eventually, MiB } from "./helpers.ts";

/**
 * Job cgroups made ahead, on this host's real cgroup v1 memory controller: each test's groups go
 * in a root of its own beside the default one, so nothing of a real agent's (or of another test
 * run's) is ever in view, and the root itself is gone afterwards.
 */
describe("prepared job cgroups (cgroup v1, real groups)", () => {
  let skip: string | false = false;
  let root: string;
  let serial = 0;
  const pools: PreparedLimits[] = [];
  const limits: JobLimit[] = [];

  before(async () => {
    const support = await detectCgroupSupport();
    if (support.v1 === null) skip = `no usable cgroup v1 memory controller: ${support.reason}`;
    // The parent of the default root is the agent's own memory cgroup: it exists.
    root = join(dirname(await defaultV1Root()), `memfarm-test-prepared-${process.pid}`);
  });
  afterEach(async () => {
    for (const limit of limits.splice(0)) await limit.dispose();
    for (const pool of pools.splice(0)) await pool.dispose();
  });
  after(() => {
    // A failed test may leave its groups: empty ones, removed here so the next run starts clean.
    for (const name of groups()) rmdirSync(join(root, name));
    if (existsSync(root)) rmdirSync(root);
  });

  /** The groups in the test's root: its directories (the rest are the kernel's control files). */
  const groups = () =>
    existsSync(root)
      ? readdirSync(root, { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => entry.name)
      : [];

  function pool(ahead?: number): PreparedLimits {
    serial += 1;
    const made = new PreparedLimits({ owner: `test-${serial}`, mode: "v1", v1Root: root, ahead });
    pools.push(made);
    return made;
  }

  it("has empty groups ready before a job, and the job's limit is one of them", async (t) => {
    if (skip) return t.skip(skip);
    const prepared = pool(2);
    await prepared.start();
    const ready = prepared.readyDirs;
    assert.equal(ready.length, 2);
    assert.deepEqual(groups().sort(), ready.map((dir) => basename(dir)).sort());
    const limit = await prepared.create({ name: "attempt-job-5-1", limitBytes: 100 * MiB });
    limits.push(limit);
    assert.ok(limit instanceof CgroupLimit);
    // The first prepared group, renamed for the attempt (v1 allows it), with the limit written.
    assert.equal(limit.dir, join(root, "attempt-job-5-1"));
    assert.ok(!existsSync(ready[0] as string), "the prepared group was renamed, not copied");
    assert.equal(Number(readFileSync(join(limit.dir, "memory.limit_in_bytes"), "utf8")), 100 * MiB);
    // A process started in it is in that group from its first instruction.
    const launched = launchInLimit(limit, "/bin/sh", ["-c", "cat /proc/self/cgroup"], {
      cwd: "/",
      env: process.env,
    });
    // Read before anything is awaited: what the child writes at once must not flow past unread.
    let output = "";
    launched.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    const closed = new Promise((resolve) => launched.child.once("close", resolve));
    assert.equal(await launched.joinProblem, null);
    await closed;
    assert.match(output, /memory:.*\/attempt-job-5-1$/m);
    // The taken group is replaced, so the next job finds one ready too.
    assert.ok(await eventually(() => prepared.readyDirs.length === 2), "a replacement was prepared");
    assert.ok(!prepared.readyDirs.includes(ready[0] as string));
  });

  it("removes the groups no job took at dispose, and the taken one goes with its job: nothing leaks", async (t) => {
    if (skip) return t.skip(skip);
    const prepared = pool(2);
    await prepared.start();
    const limit = await prepared.create({ name: "attempt-job-6-1", limitBytes: 50 * MiB });
    assert.ok(await eventually(() => prepared.readyDirs.length === 2), "a replacement was prepared");
    assert.equal(groups().length, 3);
    await prepared.dispose();
    assert.deepEqual(groups(), ["attempt-job-6-1"]);
    await limit.dispose();
    assert.deepEqual(groups(), []);
    // Disposed: a late job still gets a limit, made on the spot, and nothing is prepared again.
    const late = await prepared.create({ name: "attempt-job-6-2", limitBytes: 50 * MiB });
    limits.push(late);
    assert.deepEqual(groups(), ["attempt-job-6-2"]);
  });

  it("removes, at start, the empty groups an earlier agent of the same name left", async (t) => {
    if (skip) return t.skip(skip);
    mkdirSync(root, { recursive: true });
    const owner = `test-${serial + 1}`;
    const leftover = join(root, `ready-${owner}-99999-1`);
    const otherAgents = join(root, "ready-other-agent-99999-1");
    mkdirSync(leftover);
    mkdirSync(otherAgents);
    try {
      const prepared = pool(1);
      await prepared.start();
      assert.ok(!existsSync(leftover), "the earlier agent's empty group was removed");
      assert.ok(existsSync(otherAgents), "another agent's group is left alone");
      assert.equal(prepared.readyDirs.length, 1);
    } finally {
      rmdirSync(otherAgents);
    }
  });

  it("makes each group when its job arrives when asked to prepare none (the benchmark's before)", async (t) => {
    if (skip) return t.skip(skip);
    const prepared = pool(0);
    await prepared.start();
    assert.deepEqual(prepared.readyDirs, []);
    const limit = await prepared.create({ name: "attempt-job-7-1", limitBytes: 50 * MiB });
    limits.push(limit);
    assert.deepEqual(groups(), ["attempt-job-7-1"]);
  });

  it("refuses a bad name or limit as createJobLimit does, without using a prepared group", async (t) => {
    if (skip) return t.skip(skip);
    const prepared = pool(1);
    await prepared.start();
    await assert.rejects(prepared.create({ name: "../escape", limitBytes: MiB }), /cannot name a cgroup/);
    await assert.rejects(prepared.create({ name: "job-1-1", limitBytes: -1 }), /positive whole number/);
    assert.equal(prepared.readyDirs.length, 1);
  });
});
