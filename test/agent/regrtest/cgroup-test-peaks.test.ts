import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { CgroupLimit } from "../../../agent/limits/cgroup-limit.ts";
import { detectCgroupSupport } from "../../../agent/limits/cgroup-support.ts";
import { createJobLimit } from "../../../agent/limits/create-job-limit.ts";
import type { JobLimit } from "../../../agent/limits/job-limit.ts";
import { SeenProcesses } from "../../../agent/processes/process-tree.ts";
import { runRegrtest } from "../../../agent/regrtest/regrtest-process.ts";
import type { TestRecord } from "../../../protocol/messages.ts";
import { MiB, PYTHON } from "../limits/helpers.ts";

/**
 * Per-test peaks measured by the job's cgroup (this host: cgroup v1, run as
 * root), against real processes: memory in a child that exited, in three
 * children at once, and in /dev/shm, none of which the processes' own VmHWM
 * can see once the test ends. Sizes are modest: the machine is shared.
 */
const SEQUENTIAL = `#!${PYTHON}
import os, subprocess, sys, time
CHILD = "import time; b = bytearray(%d * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.3)"
def children(count, mib):
    procs = [subprocess.Popen([sys.executable, "-c", CHILD % mib]) for _ in range(count)]
    for proc in procs:
        proc.wait()
    time.sleep(0.3)
def shm(mib):
    path = "/dev/shm/memfarm-test-%d" % os.getpid()
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(b"s" * (1024 * 1024))
    time.sleep(0.3)
    os.unlink(path)
    time.sleep(0.3)
tests = [("test_child", lambda: children(1, 300)), ("test_three", lambda: children(3, 100)),
         ("test_shm", lambda: shm(200)), ("test_small", lambda: time.sleep(0.5))]
print("Run %d tests sequentially" % len(tests), flush=True)
previous = None
for index, (name, body) in enumerate(tests, 1):
    suffix = " -- %s passed" % previous if previous else ""
    print("0:00:00 load avg: 0.10 [%d/%d] %s%s" % (index, len(tests), name, suffix), flush=True)
    body()
    previous = name
print("%s passed" % previous, flush=True)
print("== Tests result: SUCCESS ==", flush=True)
`;

/** Two tiny test files for a real `python3 -m test -j2`: each allocates in a child that exits. */
const TEST_FILE = (mib: number) => `import subprocess, sys, time, unittest
CHILD = "b = bytearray(${mib} * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"
class AllocTest(unittest.TestCase):
    def test_child(self):
        subprocess.run([sys.executable, "-c", CHILD], check=True)
        time.sleep(0.2)
`;

let dir = "";
let skip: string | false = false;
const limits: JobLimit[] = [];
let serial = 0;

async function limitOf(mode: "v1" | "watchdog"): Promise<JobLimit> {
  serial += 1;
  const limit = await createJobLimit({
    name: `test-peaks-${process.pid}-${serial}`,
    limitBytes: 2048 * MiB,
    mode,
    watchdogIntervalMs: 100,
  });
  limits.push(limit);
  return limit;
}

async function run(limit: JobLimit, python: string, args: string[]): Promise<Map<string, TestRecord>> {
  const records = new Map<string, TestRecord>();
  const ending = await runRegrtest({
    python,
    args,
    cwd: dir,
    timeoutSeconds: 120,
    noOutputTimeoutSeconds: 0,
    sampleIntervalMs: 100,
    killGraceMs: 500,
    limit,
    signal: new AbortController().signal,
    onLog: () => {},
    onSample: () => {},
    onTests: (finished) => {
      for (const record of finished) if (record.kind === "file") records.set(record.name, record);
    },
    onStarted: () => {},
    seen: new SeenProcesses(),
  });
  assert.equal(ending.spawnError, null);
  return records;
}

function mib(record: TestRecord | undefined): number {
  return (record?.peakRssBytes ?? 0) / MiB;
}

describe("per-test peaks from the cgroup (children, tmpfs, -j workers)", () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "memfarm-cgroup-peaks-"));
    const support = await detectCgroupSupport();
    if (support.v1 === null) skip = `no usable cgroup v1 memory controller: ${support.reason}`;
  });
  afterEach(async () => {
    for (const limit of limits.splice(0)) await limit.dispose();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a sequential run counts a child that exited, three children and /dev/shm, labelled cgroup", async (t) => {
    if (skip) return t.skip(skip);
    const python = join(dir, "fake-python");
    writeFileSync(python, SEQUENTIAL);
    chmodSync(python, 0o755);
    const limit = await limitOf("v1");
    const records = await run(limit, python, ["-m", "test"]);
    for (const name of ["test_child", "test_three", "test_shm", "test_small"]) {
      assert.equal(
        records.get(name)?.peakMeasuredBy,
        "cgroup",
        `${name}: ${JSON.stringify(records.get(name))}`,
      );
    }
    assert.ok(mib(records.get("test_child")) >= 280, `test_child peak ${mib(records.get("test_child"))} MiB`);
    assert.ok(mib(records.get("test_three")) >= 280, `test_three peak ${mib(records.get("test_three"))} MiB`);
    assert.ok(mib(records.get("test_shm")) >= 190, `test_shm peak ${mib(records.get("test_shm"))} MiB`);
    // The reset works: the last test is not credited with its predecessors' memory.
    assert.ok(mib(records.get("test_small")) < 150, `test_small peak ${mib(records.get("test_small"))} MiB`);
    // And the job's own peak lost nothing to the resets.
    assert.ok((limit.peakBytes() ?? 0) / MiB >= 300, `job peak ${(limit.peakBytes() ?? 0) / MiB} MiB`);
  });

  it("without a cgroup (watchdog) the records say tmpfs and shared memory were not measured", async () => {
    const python = join(dir, "fake-python-watchdog");
    writeFileSync(python, SEQUENTIAL);
    chmodSync(python, 0o755);
    const records = await run(await limitOf("watchdog"), python, ["-m", "test"]);
    const shm = records.get("test_shm");
    assert.equal(shm?.peakMeasuredBy, "process-tree-no-shm", JSON.stringify(shm));
    assert.ok(mib(shm) < 190, `the watchdog cannot see /dev/shm, yet read ${mib(shm)} MiB`);
  });

  it("a real python3 -m test -j2 gives each test file its own worker's cgroup peak", async (t) => {
    if (skip) return t.skip(skip);
    const testDir = join(dir, "tests");
    mkdirSync(testDir);
    writeFileSync(join(testDir, "test_big.py"), TEST_FILE(250));
    writeFileSync(join(testDir, "test_little.py"), TEST_FILE(60));
    const limit = await limitOf("v1");
    assert.ok(limit instanceof CgroupLimit);
    const records = await run(limit, PYTHON, [
      "-m",
      "test",
      "-j2",
      "--testdir",
      testDir,
      "test_big",
      "test_little",
    ]);
    const big = records.get("test_big");
    const little = records.get("test_little");
    assert.equal(big?.outcome, "passed", JSON.stringify(big));
    assert.equal(big?.peakMeasuredBy, "worker-cgroup", JSON.stringify(big));
    assert.equal(little?.peakMeasuredBy, "worker-cgroup", JSON.stringify(little));
    assert.ok(mib(big) >= 240, `test_big peak ${mib(big)} MiB`);
    assert.ok(mib(little) >= 55 && mib(little) < 200, `test_little peak ${mib(little)} MiB`);
    // Each worker's group is gone once its figure was read.
    assert.deepEqual(
      existsSync(limit.dir) ? readdirSync(limit.dir).filter((name) => name.startsWith("worker-")) : [],
      [],
    );
  });
  it("-j with a re-run of failed tests (which --python would turn off) keeps regrtest's own run, labelled", async (t) => {
    if (skip) return t.skip(skip);
    const testDir = join(dir, "tests-rerun");
    mkdirSync(testDir);
    writeFileSync(join(testDir, "test_big.py"), TEST_FILE(100));
    const limit = await limitOf("v1");
    const records = await run(limit, PYTHON, ["-m", "test", "-j2", "-w", "--testdir", testDir, "test_big"]);
    const big = records.get("test_big");
    assert.equal(big?.outcome, "passed", JSON.stringify(big));
    assert.notEqual(big?.peakMeasuredBy, "worker-cgroup", JSON.stringify(big));
    if (big?.peakRssBytes !== null) assert.equal(big?.peakMeasuredBy, "regrtest");
  });
});
