import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { detectCgroupSupport } from "../../agent/memory-limit/cgroup-support.ts";
import { createJobLimit } from "../../agent/memory-limit/create-job-limit.ts";
import { processExists } from "../../agent/process-tree.ts";
import { allocator, MiB } from "./helpers.ts";

const v1 = detectCgroupSupport().v1;

describe("memory limits", () => {
  it("cgroup v1: a job past its limit is killed by the kernel and counted as OOM", {
    skip: v1 === null && "no writable cgroup v1 memory controller",
  }, async () => {
    const limit = createJobLimit({ name: `test-v1-over-${process.pid}`, limitBytes: 200 * MiB, mode: "v1" });
    assert.equal(limit.kind, "cgroup-v1");
    const run = allocator({ mib: 400, holdSeconds: 5, afterSeconds: 0 });
    try {
      limit.attach(run.child.pid as number);
      const exit = await run.exited;
      assert.equal(exit.signal, "SIGKILL");
      assert.equal(limit.oomKilled(), true);
      const peak = limit.peakBytes() ?? 0;
      assert.ok(peak > 150 * MiB && peak <= 201 * MiB, `peak ${peak / MiB} MiB`);
      assert.equal(
        readFileSync(`/proc/${process.pid}/oom_score_adj`, "utf8").trim() !== "1000",
        true,
        "the agent itself keeps its OOM score",
      );
    } finally {
      run.child.kill("SIGKILL");
      await limit.dispose();
    }
  });

  it("cgroup v1: a job under its limit runs, its peak is the kernel's, and the group is removed", {
    skip: v1 === null && "no writable cgroup v1 memory controller",
  }, async () => {
    const name = `test-v1-under-${process.pid}`;
    const limit = createJobLimit({ name, limitBytes: 300 * MiB, mode: "v1" });
    const run = allocator({ mib: 100, holdSeconds: 0.2, afterSeconds: 0 });
    limit.attach(run.child.pid as number);
    assert.equal(readFileSync(`/proc/${run.child.pid}/oom_score_adj`, "utf8").trim(), "1000");
    const exit = await run.exited;
    assert.equal(exit.code, 0);
    assert.equal(limit.oomKilled(), false);
    assert.ok((limit.peakBytes() ?? 0) >= 100 * MiB, `peak ${(limit.peakBytes() ?? 0) / MiB} MiB`);
    await limit.dispose();
    assert.equal(existsSync(join(v1 as string, name)), false);
  });

  it("watchdog: kills the whole tree once its RSS passes the limit", async () => {
    const limit = createJobLimit({
      name: "test-watchdog",
      limitBytes: 150 * MiB,
      mode: "watchdog",
      watchdogIntervalMs: 50,
    });
    assert.equal(limit.kind, "watchdog");
    const run = allocator({ mib: 400, holdSeconds: 10, afterSeconds: 0 });
    limit.attach(run.child.pid as number);
    const exit = await run.exited;
    assert.equal(exit.signal, "SIGKILL");
    assert.equal(limit.oomKilled(), true);
    await limit.dispose();
  });

  it("watchdog: a 256 MiB spike shorter than a poll is still in the peak (VmHWM)", async () => {
    const limit = createJobLimit({
      name: "test-spike",
      limitBytes: 4096 * MiB,
      mode: "watchdog",
      watchdogIntervalMs: 5000,
    });
    const run = allocator({ mib: 256, holdSeconds: 0.1, afterSeconds: 1 });
    limit.attach(run.child.pid as number);
    await run.allocated;
    await new Promise((resolve) => setTimeout(resolve, 500)); // the spike is over, the process still lives
    const peak = limit.peakBytes() ?? 0;
    await run.exited;
    assert.equal(limit.oomKilled(), false);
    assert.ok(peak >= 256 * MiB, `peak ${peak / MiB} MiB`);
    await limit.dispose();
  });

  it("cgroup v2 (a directory tree that mimics the v2 files): limit, OOM group, peak, events and kill", async () => {
    const parent = mkdtempSync(join(tmpdir(), "memfarm-fake-v2-"));
    const run = allocator({ mib: 1, holdSeconds: 60, afterSeconds: 0 });
    try {
      const limit = createJobLimit({
        name: "attempt-7-1",
        limitBytes: 512 * MiB,
        mode: "v2",
        v2Parent: parent,
      });
      const dir = join(parent, "attempt-7-1");
      assert.equal(limit.kind, "cgroup-v2");
      assert.equal(readFileSync(join(parent, "cgroup.subtree_control"), "utf8"), "+memory");
      assert.equal(readFileSync(join(dir, "memory.max"), "utf8"), String(512 * MiB));
      assert.equal(readFileSync(join(dir, "memory.oom.group"), "utf8"), "1");
      assert.equal(readFileSync(join(dir, "memory.swap.max"), "utf8"), "0");
      limit.attach(run.child.pid as number);
      assert.equal(readFileSync(join(dir, "cgroup.procs"), "utf8"), String(run.child.pid));
      assert.equal(limit.peakBytes(), null);
      writeFileSync(join(dir, "memory.peak"), "123456789\n");
      assert.equal(limit.peakBytes(), 123456789);
      writeFileSync(
        join(dir, "memory.events"),
        "low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\noom_group_kill 0\n",
      );
      assert.equal(limit.oomKilled(), false);
      writeFileSync(
        join(dir, "memory.events"),
        "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 1\n",
      );
      assert.equal(limit.oomKilled(), true);
      assert.deepEqual(limit.pids(), [run.child.pid]);
      await limit.killAll();
      assert.equal(readFileSync(join(dir, "cgroup.kill"), "utf8"), "1");
      assert.equal((await run.exited).signal, "SIGKILL", "a process cgroup.kill missed is killed by pid");
      assert.equal(processExists(run.child.pid as number), false);
    } finally {
      run.child.kill("SIGKILL");
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it("refuses a name that cannot be a cgroup directory", () => {
    assert.throws(
      () => createJobLimit({ name: "../escape", limitBytes: MiB, mode: "watchdog" }),
      /cannot name a cgroup/,
    );
  });
});
