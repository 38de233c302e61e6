import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { compileAgentConfig } from "../../agent/config.ts";
import { compileCoordinatorConfig } from "../../coordinator/config.ts";
import { durationText, parseDuration } from "../../protocol/durations.ts";
import { ValidationError } from "../../protocol/errors.ts";

function rejectedWith(field: string, pattern: RegExp) {
  return (error: unknown) =>
    error instanceof ValidationError &&
    error.code === "invalid_duration" &&
    error.field === field &&
    pattern.test(error.message);
}

describe("durations", () => {
  it("reads bare numbers as seconds, as the duration flags always have", () => {
    assert.equal(parseDuration("15", "--f"), 15_000);
    assert.equal(parseDuration("600", "--f"), 600_000);
    assert.equal(parseDuration("0", "--f"), 0);
    assert.equal(parseDuration("2.5", "--f"), 2500);
    assert.equal(parseDuration(".5", "--f"), 500);
    assert.equal(parseDuration(" 6 ", "--f"), 6000);
  });

  it("reads amounts with units, one after the other", () => {
    assert.equal(parseDuration("90s", "--f"), 90_000);
    assert.equal(parseDuration("15m", "--f"), 15 * 60_000);
    assert.equal(parseDuration("2h", "--f"), 2 * 3_600_000);
    assert.equal(parseDuration("1h30m", "--f"), 90 * 60_000);
    assert.equal(parseDuration("1.5d", "--f"), 36 * 3_600_000);
    assert.equal(parseDuration("500ms", "--f"), 500);
    assert.equal(parseDuration("1m500ms", "--f"), 60_500);
  });

  it("reads bare numbers as milliseconds where the flag says so", () => {
    assert.equal(parseDuration("200", "--sample-interval-ms", { plainUnit: "ms" }), 200);
    assert.equal(parseDuration("2s", "--sample-interval-ms", { plainUnit: "ms" }), 2000);
  });

  it("rejects what is not a duration, naming the flag and showing what to write", () => {
    for (const text of [
      "",
      "abc",
      "-5",
      "5 s",
      "5S",
      "5x",
      "1e3",
      "0x10",
      "h",
      "1h-30m",
      "Infinity",
      "5sec",
    ]) {
      assert.throws(
        () => parseDuration(text, "--lost-after"),
        rejectedWith("--lost-after", /^--lost-after: .* is not a duration; write seconds \(90\) or .*1h30m/),
        JSON.stringify(text),
      );
    }
    assert.throws(
      () => parseDuration("x", "--sample-interval-ms", { plainUnit: "ms" }),
      rejectedWith("--sample-interval-ms", /write milliseconds \(200\)/),
    );
  });

  it("holds a flag to its bounds, saying them in the same notation", () => {
    const rule = { minMs: 4000, maxMs: 3_600_000 };
    assert.equal(parseDuration("1h", "--f", rule), 3_600_000);
    assert.throws(
      () => parseDuration("61m", "--f", rule),
      rejectedWith("--f", /"61m" is 1h1m; it must be from 4s to 1h$/),
    );
    assert.throws(
      () => parseDuration("3", "--f", rule),
      rejectedWith("--f", /"3" is 3s; it must be from 4s to 1h$/),
    );
    assert.throws(
      () => parseDuration("1s", "--f", { minMs: 2000 }),
      rejectedWith("--f", /must be at least 2s$/),
    );
  });

  it("writes durations back in the form it reads", () => {
    for (const [ms, text] of [
      [0, "0s"],
      [250, "250ms"],
      [4000, "4s"],
      [90 * 60_000, "1h30m"],
      [7 * 86_400_000, "7d"],
      [86_400_000 + 1, "1d1ms"],
    ] as const) {
      assert.equal(durationText(ms), text);
      assert.equal(parseDuration(text, "--f"), ms);
    }
  });

  it("is what --lost-after and --drain-timeout read, with their bounds", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "memfarm-durations-"));
    try {
      const lostAfter = (text: string) =>
        compileCoordinatorConfig({ dataDir, lostAfter: text }, {}).lostAfterMs;
      assert.equal(lostAfter("6"), 6000);
      assert.equal(lostAfter("2m"), 120_000);
      assert.throws(
        () => lostAfter("3"),
        rejectedWith("--lost-after", /"3" is 3s; it must be from 4s to 1h$/),
      );
      assert.throws(() => lostAfter("2h"), rejectedWith("--lost-after", /must be from 4s to 1h$/));
      const drain = (text: string) =>
        compileAgentConfig({ nats: "nats://127.0.0.1:4222", drainTimeout: text }).drainTimeoutMs;
      assert.equal(drain("0"), 0);
      assert.equal(drain("3600"), 3_600_000);
      assert.equal(drain("1h30m"), 90 * 60_000);
      assert.throws(
        () => drain("8d"),
        rejectedWith("--drain-timeout", /"8d" is 8d; it must be from 0s to 7d$/),
      );
      assert.throws(() => drain("soon"), rejectedWith("--drain-timeout", /not a duration/));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
