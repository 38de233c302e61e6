import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { CgroupLimit } from "../../../agent/limits/cgroup-limit.ts";
import { defaultV1Root, detectCgroupSupport } from "../../../agent/limits/cgroup-support.ts";

const DEFAULT_V1_ROOT = await defaultV1Root();

import { createJobLimit } from "../../../agent/limits/create-job-limit.ts";
import type { JobLimit } from "../../../agent/limits/job-limit.ts";
import { processExists } from "../../../agent/processes/process-tree.ts";
import { eventually, killStarted, MiB, PythonChild } from "./helpers.ts";

const limits: JobLimit[] = [];
let serial = 0;
let rootExisted = true;
let skip: string | false = false;

/** A unique group name, so a test run never meets another's leftovers or a real agent's jobs. */
function nextName(): string {
  serial += 1;
  return `test-limits-${process.pid}-${serial}`;
}

async function v1Limit(limitBytes: number, onOom?: () => void): Promise<JobLimit> {
  const limit = await createJobLimit({
    name: nextName(),
    limitBytes,
    mode: "v1",
    watchdogIntervalMs: 50,
    onOom,
  });
  limits.push(limit);
  return limit;
}

/** The job's group directory (only a cgroup limit has one). */
function groupOf(limit: JobLimit): string {
  assert.ok(limit instanceof CgroupLimit, `a ${limit.kind} limit has no group`);
  return limit.dir;
}

describe("cgroup v1 limit (the real memory controller of this host)", () => {
  before(async () => {
    const support = await detectCgroupSupport();
    if (support.v1 === null) skip = `no usable cgroup v1 memory controller: ${support.reason}`;
    rootExisted = existsSync(DEFAULT_V1_ROOT);
  });
  afterEach(async () => {
    killStarted();
    for (const limit of limits.splice(0)) await limit.dispose();
  });
  after(() => {
    killStarted();
    if (!rootExisted) {
      try {
        rmdirSync(DEFAULT_V1_ROOT);
      } catch {
        // Something else (a real agent) has groups in it now.
      }
    }
  });

  it("OOM-kills a job that allocates 400 MiB under a 200 MiB limit, and removes its group", async (t) => {
    if (skip) return t.skip(skip);
    let ooms = 0;
    const limit = await v1Limit(200 * MiB, () => (ooms += 1));
    const group = groupOf(limit);
    assert.equal(limit.kind, "cgroup-v1");
    assert.equal(readFileSync(join(group, "memory.limit_in_bytes"), "utf8").trim(), String(200 * MiB));
    const child = new PythonChild("b = b'x' * (400 * 1024 * 1024)\nprint('survived', flush=True)");
    limit.attach(child.pid);
    assert.equal(readFileSync(`/proc/${child.pid}/oom_score_adj`, "utf8").trim(), "1000");
    assert.deepEqual(limit.pids(), [child.pid]);
    child.go();
    assert.deepEqual(await child.ending(), { code: null, signal: "SIGKILL" });
    assert.equal(limit.oomKilled(), true);
    assert.ok(await eventually(() => ooms === 1), "onOom was not called");
    const peak = limit.peakBytes() ?? 0;
    t.diagnostic(`peak ${(peak / MiB).toFixed(1)} MiB under a 200 MiB limit`);
    assert.ok(peak > 190 * MiB && peak <= 200 * MiB, `peak ${peak}`);
    await limit.dispose();
    assert.equal(existsSync(group), false);
    assert.equal(limit.oomKilled(), true, "the reading outlives the group");
  });

  it("lets a job of 100 MiB under a 300 MiB limit finish, and counts its peak", async (t) => {
    if (skip) return t.skip(skip);
    const limit = await v1Limit(300 * MiB);
    const child = new PythonChild("b = b'x' * (100 * 1024 * 1024)\ntime.sleep(0.1)");
    limit.attach(child.pid);
    child.go();
    assert.deepEqual(await child.ending(), { code: 0, signal: null }, child.errors);
    assert.equal(limit.oomKilled(), false);
    const peak = limit.peakBytes() ?? 0;
    t.diagnostic(`peak ${(peak / MiB).toFixed(1)} MiB for a 100 MiB allocation`);
    assert.ok(peak >= 100 * MiB && peak < 200 * MiB, `peak ${peak}`);
  });

  it("makes a left-over empty group of the same name again: its old high-water mark is not the job's", async (t) => {
    if (skip) return t.skip(skip);
    const name = nextName();
    // A group an agent left (it died, or another farm here numbers attempts the same), once 150 MiB high.
    const stale = join(DEFAULT_V1_ROOT, name);
    mkdirSync(stale, { recursive: true });
    const hog = new PythonChild("b = b'x' * (150 * 1024 * 1024)");
    writeFileSync(join(stale, "cgroup.procs"), String(hog.pid));
    hog.go();
    assert.deepEqual(await hog.ending(), { code: 0, signal: null }, hog.errors);
    assert.ok(Number(readFileSync(join(stale, "memory.max_usage_in_bytes"), "utf8")) > 140 * MiB);

    const limit = await createJobLimit({ name, limitBytes: 300 * MiB, mode: "v1", watchdogIntervalMs: 50 });
    limits.push(limit);
    assert.equal(groupOf(limit), stale);
    const child = new PythonChild("b = b'x' * (20 * 1024 * 1024)");
    limit.attach(child.pid);
    child.go();
    assert.deepEqual(await child.ending(), { code: 0, signal: null }, child.errors);
    const peak = limit.peakBytes() ?? 0;
    assert.ok(peak >= 20 * MiB && peak < 100 * MiB, `the job's own peak, not the group's old one: ${peak}`);
  });

  it("holds the job's children too, and kills them all", async (t) => {
    if (skip) return t.skip(skip);
    const limit = await v1Limit(300 * MiB);
    const group = groupOf(limit);
    const child = new PythonChild(
      [
        "import subprocess",
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'], start_new_session=True)",
        "print(p.pid, flush=True)",
        "time.sleep(30)",
      ].join("\n"),
    );
    limit.attach(child.pid);
    child.go();
    const grandchild = Number(await child.line());
    // A new session leaves the process tree's group, not the cgroup.
    assert.deepEqual(
      limit.pids().sort((a, b) => a - b),
      [child.pid, grandchild].sort((a, b) => a - b),
    );
    await limit.killAll();
    assert.equal((await child.ending(2000)).signal, "SIGKILL");
    assert.ok(await eventually(() => !processExists(grandchild), 2000), "the grandchild survived");
    assert.deepEqual(limit.pids(), []);
    await limit.dispose();
    assert.equal(existsSync(group), false);
  });

  it("is what auto mode picks here, where v2 has no memory controller", async (t) => {
    if (skip) return t.skip(skip);
    const support = await detectCgroupSupport();
    if (support.v2 !== null) return t.skip(`this host has a usable cgroup v2 at ${support.v2}`);
    t.diagnostic(`why not v2: ${support.reason}`);
    const limit = await createJobLimit({ name: nextName(), limitBytes: 100 * MiB });
    limits.push(limit);
    assert.equal(limit.kind, "cgroup-v1");
    assert.ok(groupOf(limit).startsWith(`${DEFAULT_V1_ROOT}/`));
    assert.ok(existsSync(groupOf(limit)));
  });
});
