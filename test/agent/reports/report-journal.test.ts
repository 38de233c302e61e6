import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { namedAsFinished } from "../../../agent/attempts/agent-attempt.ts";
import { ReportJournal } from "../../../agent/reports/report-journal.ts";
import { parseReport, reportMessageId } from "../../../protocol/messages.ts";

const progress = (seq: number) =>
  JSON.stringify({
    kind: "progress",
    jobId: "1",
    attemptId: "1-1",
    seq,
    started: true,
    log: [],
    samples: [],
  });
const result = JSON.stringify({
  kind: "result",
  jobId: "1",
  attemptId: "1-1",
  status: "passed",
  exitCode: 0,
  signal: null,
  startedAt: "2026-11-29T00:00:00.000Z",
  finishedAt: "2026-11-29T00:01:00.000Z",
  peakRssBytes: 1,
  counts: null,
  failedTests: [],
  error: null,
  limitBytes: null,
  limitKind: null,
  lastSeq: 2,
});

describe("the agent's report journal", () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-journal-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("gives a new process the reports after the last acknowledged one, and whether the result is among them", () => {
    const journal = new ReportJournal(dir, "1-1");
    for (const report of [progress(1), progress(2), result]) journal.append(report);
    journal.markAcknowledged(1);
    const [pending] = ReportJournal.pending(dir);
    assert.equal(pending?.attemptId, "1-1");
    assert.equal(pending?.acknowledged, 1);
    assert.deepEqual(pending?.unacknowledged, [progress(2), result]);
    assert.equal(pending?.hasResult, true);
    journal.remove();
    assert.deepEqual(readdirSync(dir), []);
  });

  it("drops a last line cut short by a crash mid-write, and reports an unfinished attempt as such", () => {
    const journal = new ReportJournal(dir, "2-1");
    journal.append(progress(1));
    appendFileSync(join(dir, "2-1.jsonl"), '{"kind":"progress","jobId":"2"');
    const [pending] = ReportJournal.pending(dir);
    assert.deepEqual(pending?.unacknowledged, [progress(1)]);
    assert.equal(pending?.hasResult, false);
    journal.remove();
  });

  it("has nothing pending when the directory does not exist", () => {
    assert.deepEqual(ReportJournal.pending(join(dir, "missing")), []);
  });
});

describe("reports on the wire", () => {
  it("reads progress and results, and names each with a message id the stream deduplicates by", () => {
    const first = parseReport(progress(3));
    assert.equal(first.kind, "progress");
    assert.equal(reportMessageId(first), "1-1.3");
    assert.equal(reportMessageId(parseReport(result)), "1-1.result");
  });

  it("reads the commit's time when the agent sends it, and none from an agent that does not", () => {
    const withTime = (commitTime: string) =>
      JSON.stringify({ ...JSON.parse(progress(4)), commit: "a".repeat(40), commitTime });
    const read = parseReport(withTime("2021-03-04T03:06:07.000Z"));
    assert.ok(read.kind === "progress");
    assert.deepEqual([read.commit, read.commitTime], ["a".repeat(40), "2021-03-04T03:06:07.000Z"]);
    const old = parseReport(JSON.stringify({ ...JSON.parse(progress(5)), commit: "a".repeat(40) }));
    assert.ok(old.kind === "progress" && old.commitTime === undefined);
    for (const bad of ["2021-03-04T05:06:07+02:00", "yesterday", "2021-02-30T00:00:00Z"]) {
      assert.throws(() => parseReport(withTime(bad)), /commitTime must be an ISO 8601 UTC time/, bad);
    }
  });

  it("refuses an unknown kind, a missing kind and a malformed body", () => {
    assert.throws(() => parseReport(JSON.stringify({ kind: "gossip" })), /kind "gossip"/);
    assert.throws(() => parseReport(progress(1).replace('"kind":"progress",', "")), /kind/);
    assert.throws(() => parseReport("{"), /not JSON/);
  });
});

describe("finished attempts named in heartbeats", () => {
  it("keeps an attempt while its result is on its way and for two minutes after it arrived", () => {
    assert.equal(namedAsFinished("reporting", null, 0), true);
    assert.equal(namedAsFinished("reported", 1_000, 60_000), true);
    assert.equal(namedAsFinished("reported", 1_000, 200_000), false);
    assert.equal(namedAsFinished("running", null, 0), false, "a running attempt is named as running");
    assert.equal(namedAsFinished("cut_short", null, 0), false, "an attempt cut short by a restart is lost");
  });
});
