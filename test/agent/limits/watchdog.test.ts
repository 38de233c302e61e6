import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, afterEach, describe, it } from "node:test";
import { createJobLimit } from "../../../agent/limits/create-job-limit.ts";
import type { JobLimit } from "../../../agent/limits/job-limit.ts";
import { processExists } from "../../../agent/processes/process-tree.ts";
import { eventually, killStarted, MiB, PythonChild } from "./helpers.ts";

const limits: JobLimit[] = [];

async function watchdog(limitBytes: number, onOom?: () => void): Promise<JobLimit> {
  const limit = await createJobLimit({ name: "job-7-1", limitBytes, mode: "watchdog", onOom });
  limits.push(limit);
  return limit;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) * 1024;
}

describe("watchdog limit (no cgroup: polls the process tree)", () => {
  afterEach(async () => {
    killStarted();
    for (const limit of limits.splice(0)) await limit.dispose();
  });
  after(() => killStarted());

  it("kills a job that grows past the limit", async (t) => {
    let ooms = 0;
    let treeGoneAtOom: boolean | null = null;
    let child: PythonChild | null = null;
    const limit = await watchdog(150 * MiB, () => {
      ooms += 1;
      treeGoneAtOom = child !== null && !processExists(child.pid);
    });
    assert.equal(limit.kind, "watchdog");
    child = new PythonChild(
      "chunks = []\nfor _ in range(12):\n    chunks.append(b'x' * (32 * 1024 * 1024))\n    time.sleep(0.05)",
    );
    limit.attach(child.pid);
    assert.equal(readFileSync(`/proc/${child.pid}/oom_score_adj`, "utf8").trim(), "1000");
    child.go();
    assert.deepEqual(await child.ending(), { code: null, signal: "SIGKILL" });
    assert.equal(limit.oomKilled(), true);
    assert.ok(await eventually(() => ooms === 1), "onOom was not called");
    assert.equal(treeGoneAtOom, true, "onOom came before the tree was gone");
    const peak = limit.peakBytes() ?? 0;
    t.diagnostic(
      `killed at a peak of ${(peak / MiB).toFixed(1)} MiB (limit 150 MiB, the job would reach 384 MiB)`,
    );
    assert.ok(peak > 150 * MiB && peak < 300 * MiB, `peak ${peak}`);
  });

  it("sums the whole tree: two processes under the limit each, over it together", async () => {
    const limit = await watchdog(160 * MiB);
    const child = new PythonChild(
      [
        "import subprocess",
        "code = 'import time; b = bytes(1) * (100 * 1024 * 1024); print(1, flush=True); time.sleep(30)'",
        "kids = [subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE) for _ in range(2)]",
        "print(' '.join(str(k.pid) for k in kids), flush=True)",
        "for k in kids: k.stdout.readline()",
        "print('allocated', flush=True)",
        "time.sleep(30)",
      ].join("\n"),
    );
    limit.attach(child.pid);
    child.go();
    const kids = (await child.line()).split(" ").map(Number);
    assert.equal(kids.length, 2);
    assert.deepEqual(await child.ending(), { code: null, signal: "SIGKILL" });
    assert.equal(limit.oomKilled(), true);
    assert.ok(await eventually(() => kids.every((pid) => !processExists(pid)), 2000), "a worker survived");
    assert.deepEqual(limit.pids(), []);
  });

  it("leaves a job under the limit alone, and counts its peak", async (t) => {
    const limit = await watchdog(300 * MiB);
    const child = new PythonChild("b = b'x' * (100 * 1024 * 1024)\ntime.sleep(0.3)");
    limit.attach(child.pid);
    child.go();
    assert.deepEqual(await child.ending(), { code: 0, signal: null }, child.errors);
    assert.equal(limit.oomKilled(), false);
    const peak = limit.peakBytes() ?? 0;
    t.diagnostic(`peak ${(peak / MiB).toFixed(1)} MiB for a 100 MiB allocation`);
    assert.ok(peak >= 100 * MiB && peak < 150 * MiB, `peak ${peak}`);
  });

  it("keeps a 512 MiB spike of ~100 ms that no sample would see (VmHWM)", async (t) => {
    const limit = await watchdog(2048 * MiB);
    const child = new PythonChild(
      [
        "b = b'x' * (512 * 1024 * 1024)",
        "time.sleep(0.1)",
        "del b",
        "print('freed', flush=True)",
        "time.sleep(1)",
      ].join("\n"),
    );
    limit.attach(child.pid);
    child.go();
    assert.equal(await child.line(), "freed");
    // Right now the job is small again: a reading of its RSS alone would miss the spike.
    const rssAfter = rssOf(child.pid);
    assert.ok(rssAfter < 64 * MiB, `rss after free ${rssAfter}`);
    assert.deepEqual(await child.ending(), { code: 0, signal: null }, child.errors);
    assert.equal(limit.oomKilled(), false);
    const peak = limit.peakBytes() ?? 0;
    t.diagnostic(
      `rss ${(rssAfter / MiB).toFixed(1)} MiB after the spike; peak ${(peak / MiB).toFixed(1)} MiB`,
    );
    assert.ok(peak >= 512 * MiB && peak < 600 * MiB, `peak ${peak}`);
  });

  it("kills the tree on killAll and on dispose, which can be called twice", async () => {
    const limit = await watchdog(1024 * MiB);
    const child = new PythonChild("time.sleep(30)");
    limit.attach(child.pid);
    child.go();
    assert.deepEqual(limit.pids(), [child.pid]);
    await Promise.all([limit.dispose(), limit.dispose()]);
    assert.equal((await child.ending(2000)).signal, "SIGKILL");
    assert.equal(limit.oomKilled(), false);
    await limit.dispose();
  });
});
