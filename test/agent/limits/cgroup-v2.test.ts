import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createJobLimit } from "../../../agent/limits/create-job-limit.ts";
import type { JobLimit } from "../../../agent/limits/job-limit.ts";
import { eventually, fakeV2Root, killStarted, MiB, PythonChild, removeDir } from "./helpers.ts";

const roots: string[] = [];
const limits: JobLimit[] = [];

function root(files: Record<string, string> = {}): string {
  const dir = fakeV2Root(files);
  roots.push(dir);
  return dir;
}

async function v2Limit(dir: string, extra: { onOom?: () => void; name?: string } = {}): Promise<JobLimit> {
  const limit = await createJobLimit({
    name: extra.name ?? "job-42-1",
    limitBytes: 256 * MiB,
    mode: "v2",
    v2Root: dir,
    watchdogIntervalMs: 20,
    onOom: extra.onOom,
  });
  limits.push(limit);
  return limit;
}

const read = (path: string) => readFileSync(path, "utf8");

/** A child that only sleeps: a real pid to attach and kill. */
function sleeper(): PythonChild {
  const child = new PythonChild("time.sleep(30)");
  child.go();
  return child;
}

describe("cgroup v2 limit (on a directory tree that mimics cgroup v2)", () => {
  afterEach(async () => {
    for (const limit of limits.splice(0)) await limit.dispose();
    killStarted();
  });
  after(() => {
    killStarted();
    for (const dir of roots) removeDir(dir);
  });

  it("makes the job's group with memory.max, memory.oom.group, and no swap where swap is limited", async () => {
    const dir = root();
    // The kernel makes memory.swap.max with the group where swap accounting is on; mimic that.
    mkdirSync(join(dir, "job-42-1"));
    writeFileSync(join(dir, "job-42-1", "memory.swap.max"), "max\n");
    const limit = await v2Limit(dir);
    assert.equal(limit.kind, "cgroup-v2");
    assert.equal(limit.limitBytes, 256 * MiB);
    assert.equal(read(join(dir, "job-42-1", "memory.max")), String(256 * MiB));
    assert.equal(read(join(dir, "job-42-1", "memory.oom.group")), "1");
    assert.equal(read(join(dir, "job-42-1", "memory.swap.max")), "0");
  });

  it("leaves memory.swap.max alone where it does not exist, and enables memory for the job groups", async () => {
    const dir = root({ "cgroup.subtree_control": "cpu\n" });
    await v2Limit(dir);
    assert.equal(existsSync(join(dir, "job-42-1", "memory.swap.max")), false);
    assert.equal(read(join(dir, "cgroup.subtree_control")), "+memory");
  });

  it("refuses a root without the memory controller, saying so", async () => {
    const dir = root({ "cgroup.controllers": "cpu io pids\n" });
    await assert.rejects(v2Limit(dir), /has no memory controller/);
    assert.equal(existsSync(join(dir, "job-42-1")), false);
  });

  it("refuses a group that already has processes in it", async () => {
    const dir = root();
    mkdirSync(join(dir, "job-42-1"));
    writeFileSync(join(dir, "job-42-1", "cgroup.procs"), `${process.pid}\n`);
    await assert.rejects(v2Limit(dir), /already exists and has processes/);
  });

  it("attaches a process through cgroup.procs and makes it the OOM killer's first choice", async () => {
    const dir = root();
    const limit = await v2Limit(dir);
    const child = sleeper();
    limit.attach(child.pid);
    assert.equal(read(join(dir, "job-42-1", "cgroup.procs")), String(child.pid));
    assert.equal(read(`/proc/${child.pid}/oom_score_adj`).trim(), "1000");
    assert.deepEqual(limit.pids(), [child.pid]);
  });

  it("reads the peak from memory.peak and the OOM kills from memory.events", async () => {
    const dir = root();
    const group = join(dir, "job-42-1");
    let ooms = 0;
    const limit = await v2Limit(dir, { onOom: () => (ooms += 1) });
    limit.attach(sleeper().pid);
    assert.equal(limit.peakBytes(), null);
    assert.equal(limit.oomKilled(), false);
    writeFileSync(join(group, "memory.peak"), `${200 * MiB}\n`);
    writeFileSync(
      join(group, "memory.events"),
      "low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\noom_group_kill 0\n",
    );
    assert.equal(limit.peakBytes(), 200 * MiB);
    // Hitting memory.max (`max`, `oom`) without a kill is not an OOM kill: the kernel reclaimed enough.
    assert.equal(limit.oomKilled(), false);
    writeFileSync(
      join(group, "memory.events"),
      "low 0\nhigh 0\nmax 40\noom 2\noom_kill 1\noom_group_kill 0\n",
    );
    assert.equal(limit.oomKilled(), true);
    assert.ok(await eventually(() => ooms === 1), "onOom was not called");
    await sleep(100); // several more polls
    assert.equal(ooms, 1);
  });

  it("counts a group kill (memory.oom.group) as an OOM kill", async () => {
    const dir = root();
    const limit = await v2Limit(dir);
    writeFileSync(join(dir, "job-42-1", "memory.events"), "oom 1\noom_kill 0\noom_group_kill 1\n");
    assert.equal(limit.oomKilled(), true);
  });

  it("falls back to the highest memory.current it saw where memory.peak is missing (Linux < 5.19)", async () => {
    const dir = root();
    const current = join(dir, "job-42-1", "memory.current");
    const limit = await v2Limit(dir);
    writeFileSync(current, `${10 * MiB}\n`);
    limit.attach(sleeper().pid);
    for (const mib of [50, 180, 60]) {
      writeFileSync(current, `${mib * MiB}\n`);
      await sleep(80); // a few polls at 20 ms
    }
    assert.equal(limit.peakBytes(), 180 * MiB);
  });

  it("kills the job with cgroup.kill, then whatever cgroup.procs still lists", async () => {
    const dir = root();
    const group = join(dir, "job-42-1");
    mkdirSync(group);
    writeFileSync(join(group, "cgroup.kill"), "");
    const limit = await v2Limit(dir);
    const child = sleeper();
    limit.attach(child.pid);
    const started = Date.now();
    await limit.killAll();
    assert.equal(read(join(group, "cgroup.kill")), "1");
    assert.deepEqual(await child.ending(2000), { code: null, signal: "SIGKILL" });
    assert.ok(Date.now() - started < 2000);
  });

  it("freezes the group first where cgroup.kill is missing (Linux 5.2 to 5.13), and never makes either file", async () => {
    const frozenRoot = root();
    mkdirSync(join(frozenRoot, "job-42-1"));
    writeFileSync(join(frozenRoot, "job-42-1", "cgroup.freeze"), "0\n");
    const frozen = await v2Limit(frozenRoot);
    const first = sleeper();
    frozen.attach(first.pid);
    await frozen.killAll();
    assert.equal(read(join(frozenRoot, "job-42-1", "cgroup.freeze")), "1");
    assert.equal(existsSync(join(frozenRoot, "job-42-1", "cgroup.kill")), false);
    assert.equal((await first.ending(2000)).signal, "SIGKILL");

    const bareRoot = root();
    const bare = await v2Limit(bareRoot);
    const second = sleeper();
    bare.attach(second.pid);
    await bare.killAll();
    assert.equal(existsSync(join(bareRoot, "job-42-1", "cgroup.kill")), false);
    assert.equal(existsSync(join(bareRoot, "job-42-1", "cgroup.freeze")), false);
    assert.equal((await second.ending(2000)).signal, "SIGKILL");
  });

  it("dispose kills what is left, can be called twice, and keeps the last readings", async () => {
    const dir = root();
    const group = join(dir, "job-42-1");
    const limit = await v2Limit(dir);
    const child = sleeper();
    limit.attach(child.pid);
    writeFileSync(join(group, "memory.peak"), `${99 * MiB}\n`);
    writeFileSync(join(group, "memory.events"), "oom_kill 1\n");
    await Promise.all([limit.dispose(), limit.dispose()]);
    await limit.dispose();
    assert.equal((await child.ending(2000)).signal, "SIGKILL");
    // A real group's files go with it; these readings must outlive them.
    rmSync(group, { recursive: true });
    assert.equal(limit.peakBytes(), 99 * MiB);
    assert.equal(limit.oomKilled(), true);
    assert.throws(() => limit.attach(process.pid), /already removed/);
  });

  it("offers no per-test counter where memory.peak is not the kernel's, nor worker groups: the tests fall back, labelled", async () => {
    const dir = root();
    const limit = await v2Limit(dir, { name: "job-43-1" });
    const peakFile = join(dir, "job-43-1", "memory.peak");
    writeFileSync(peakFile, String(80 * MiB));
    assert.equal(limit.openPeakCounter(), null);
    assert.equal(read(peakFile), String(80 * MiB), "the stand-in's file is left as it was");
    assert.equal(limit.workerGroupsDir, null);
  });
});
