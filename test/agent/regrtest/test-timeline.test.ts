import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RegrtestOutputReader } from "../../../agent/regrtest/regrtest-output.ts";
import { parseDuration, TestTimeline } from "../../../agent/regrtest/test-timeline.ts";
import type { TestRecord } from "../../../protocol/messages.ts";

/** A fake clock and peak window: the test says what the kernel's high-water mark is at each moment. */
function harness(sequential: boolean) {
  let now = 1_000_000;
  let peak = 0;
  const resets: number[] = [];
  const timeline = new TestTimeline({
    sequential,
    now: () => now,
    window: {
      reset: () => {
        resets.push(now);
        peak = 10;
      },
      peak: () => peak,
    },
  });
  const reader = new RegrtestOutputReader();
  const records: TestRecord[] = [];
  return {
    partial(text: string, advanceMs = 0) {
      now += advanceMs;
      timeline.readPartial(text);
    },
    line(text: string, advanceMs = 0, peakNow?: number) {
      now += advanceMs;
      if (peakNow !== undefined) peak = Math.max(peak, peakNow);
      timeline.read(text);
      reader.read(text);
      records.push(...timeline.takeCompleted());
    },
    finish() {
      records.push(...timeline.finish(reader.get()));
      return records;
    },
    resets,
  };
}

const latest = (records: TestRecord[], kind: string, name: string) =>
  records.filter((record) => record.kind === kind && record.name === name).at(-1);

describe("test timeline", () => {
  it("gives each test case of a sequential run its own duration and kernel peak", () => {
    const run = harness(true);
    run.line("0:00:00 load avg: 0.5 [1/2] test_bigmem");
    run.partial("test_capitalize (test.test_bigmem.StrTest.test_capitalize) ... ");
    run.line(
      "test_capitalize (test.test_bigmem.StrTest.test_capitalize) ...  ... expected peak memory use: 4.0G",
      1500,
      4_000,
    );
    run.line("ok", 500);
    run.line(
      "test_center (test.test_bigmem.StrTest.test_center) ... skipped 'not enough memory: 2.0G minimum needed'",
      10,
    );
    run.line("0:00:03 load avg: 0.5 [2/2/1] test_zlib -- test_bigmem failed (1 failure)", 100);
    run.partial("test_big (test.test_zlib.T.test_big) ... ", 100);
    run.line("test_big (test.test_zlib.T.test_big) ... FAIL", 300, 900);
    run.line("test_zlib failed", 50);
    run.line("== Tests result: FAILURE ==");
    run.line("2 tests failed:");
    run.line("    test_bigmem test_zlib");
    const records = run.finish();
    const capitalize = latest(records, "case", "test.test_bigmem.StrTest.test_capitalize");
    assert.deepEqual(
      [capitalize?.outcome, capitalize?.durationSeconds, capitalize?.peakRssBytes],
      ["passed", 2, 4_000],
    );
    const center = latest(records, "case", "test.test_bigmem.StrTest.test_center");
    assert.equal(center?.outcome, "skipped");
    assert.equal(center?.detail, "not enough memory: 2.0G minimum needed");
    assert.equal(center?.peakRssBytes, 10, "the window was reset when the case started");
    const bigmem = latest(records, "file", "test_bigmem");
    assert.deepEqual([bigmem?.outcome, bigmem?.peakRssBytes], ["failed", 4_000]);
    assert.equal(bigmem?.durationSeconds, 2.11);
    const zlib = latest(records, "file", "test_zlib");
    assert.deepEqual([zlib?.outcome, zlib?.peakRssBytes], ["failed", 900]);
    assert.equal(latest(records, "case", "test.test_zlib.T.test_big")?.outcome, "failed");
  });

  it("takes a -j run's file durations from regrtest and leaves case timing unknown", () => {
    const run = harness(false);
    run.line(
      "0:00:38 load avg: 1.2 [ 1/10] test_marshal passed (38.4 sec) -- running (1): test_bigmem (40.1 sec)",
    );
    run.line("0:01:40 load avg: 1.2 [ 2/10] test_bigmem failed (1 min 40 sec) mem: 2048 MiB");
    run.line("test_x (test.test_bigmem.T.test_x) ... ok");
    const records = run.finish();
    const marshal = latest(records, "file", "test_marshal");
    assert.deepEqual(
      [marshal?.outcome, marshal?.durationSeconds, marshal?.peakRssBytes],
      ["passed", 38.4, null],
    );
    const bigmem = latest(records, "file", "test_bigmem");
    assert.deepEqual(
      [bigmem?.outcome, bigmem?.durationSeconds, bigmem?.peakRssBytes],
      ["failed", 100, 2048 * 1024 * 1024],
    );
    assert.deepEqual(
      [
        latest(records, "case", "test.test_bigmem.T.test_x")?.outcome,
        latest(records, "case", "test.test_bigmem.T.test_x")?.startedAt,
      ],
      ["passed", null],
    );
    assert.deepEqual(run.resets, [], "no per-test windows under -j");
  });

  it("marks a file that leaked references and keeps the leak report", () => {
    const run = harness(true);
    run.line("0:00:00 [1/1] test_leaky");
    run.line("test_leaky leaked [1, 1, 1] references, sum=3", 100);
    run.line("test_leaky failed (reference leak)", 10);
    const record = latest(run.finish(), "file", "test_leaky");
    assert.equal(record?.outcome, "leaked");
    assert.match(record?.detail ?? "", /leaked \[1, 1, 1\] references, sum=3/);
  });

  it("reads regrtest's durations", () => {
    assert.equal(parseDuration("(38.4 sec)"), 38.4);
    assert.equal(parseDuration("(1 min 40 sec)"), 100);
    assert.equal(parseDuration("in 2 hour 3 min"), 7380);
    assert.equal(parseDuration("(250 ms)"), 0.25);
    assert.equal(parseDuration("passed"), null);
  });
});
