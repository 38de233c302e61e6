import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SeenProcesses } from "../../../agent/processes/process-tree.ts";
import { runRegrtest } from "../../../agent/regrtest/regrtest-process.ts";
import type { TestRecord } from "../../../protocol/messages.ts";
import { MiB, PYTHON } from "../limits/helpers.ts";

/**
 * A fake --python whose test_a allocates 300 MiB and frees it in its first
 * millisecond. The agent only learns that test_a began when it reads the
 * progress line, which is always some time after the test started; here the
 * whole allocation falls in that gap (it is done before the line reaches the
 * agent), the worst case of the race.
 */
const SPIKES_AT_ONCE = `#!${PYTHON}
import time
print("0:00:00 load avg: 0.10 Run 2 tests sequentially", flush=True)
time.sleep(0.5)
spike = b"x" * (300 * 1024 * 1024)
del spike
print("0:00:00 load avg: 0.10 [1/2] test_a", flush=True)
time.sleep(0.5)
print("0:00:01 load avg: 0.10 [2/2] test_b -- test_a passed", flush=True)
time.sleep(0.5)
print("test_b passed", flush=True)
print("== Tests result: SUCCESS ==", flush=True)
`;

let dir = "";

describe("per-test peaks: a test allocating in its first millisecond", () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "memfarm-peak-start-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("is still counted, although the agent reads its progress line after the spike", async () => {
    const python = join(dir, "fake-python");
    writeFileSync(python, SPIKES_AT_ONCE);
    chmodSync(python, 0o755);
    const records: TestRecord[] = [];
    const ending = await runRegrtest({
      python,
      args: ["-m", "test"],
      cwd: dir,
      timeoutSeconds: 60,
      noOutputTimeoutSeconds: 0,
      sampleIntervalMs: 100,
      killGraceMs: 500,
      limit: null,
      signal: new AbortController().signal,
      onLog: () => {},
      onSample: () => {},
      onTests: (finished) => records.push(...finished),
      onStarted: () => {},
      seen: new SeenProcesses(),
    });
    assert.equal(ending.spawnError, null);
    const peaks = Object.fromEntries(records.map((record) => [record.name, record.peakRssBytes]));
    assert.ok((peaks.test_a ?? 0) >= 300 * MiB, `test_a peak ${(peaks.test_a ?? 0) / MiB} MiB`);
    assert.ok((peaks.test_b ?? Infinity) < 100 * MiB, `test_b peak ${(peaks.test_b ?? 0) / MiB} MiB`);
  });
});
