import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { chartData } from "../../../coordinator/dashboard/chart-data.ts";
import { Retention, type RetentionConfig } from "../../../coordinator/retention/retention.ts";
import { openStore, type Store } from "../../../coordinator/store/store.ts";
import { silentLogger } from "../../../protocol/logger.ts";
import { DAY_MS, recordOldJob } from "../../helpers/old-jobs.ts";

const dir = mkdtempSync(join(tmpdir(), "memfarm-retention-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const rawSamples = (store: Store, jobId: number) =>
  (store.db.prepare("SELECT COUNT(*) AS n FROM samples WHERE job_id = ?").get(jobId) as { n: number }).n;
const rawLines = (store: Store, jobId: number) =>
  (store.db.prepare("SELECT COUNT(*) AS n FROM log_lines WHERE job_id = ?").get(jobId) as { n: number }).n;

/** What a person sees of a job: its peak, its tests, its chart, its log. */
function seen(store: Store, jobId: number) {
  const job = store.jobs.get(jobId);
  assert.ok(job);
  const tests = store.tests.list(jobId);
  const chart = chartData(job, store.samples.chartPoints(jobId, 300), tests, 300);
  return {
    peakRssBytes: job.peakRssBytes,
    status: job.status,
    tests,
    chart,
    log: store.logs.read(jobId),
    tail: store.logs.tail(jobId, 200),
  };
}

function retention(store: Store, config: RetentionConfig): Retention {
  // Small batches, so that a job takes several: what the coordinator does, in miniature.
  return new Retention({ store, config, log: silentLogger, batchRows: 700, pauseMs: 0 });
}

describe("retention", () => {
  const store = openStore(join(dir, "farm.sqlite"));
  after(() => store.close());
  // A long bigmem job that ended 40 days ago, 3 h at 1 Hz; a refleak job that ended 120 days ago;
  // one that ended yesterday; one still running since 60 days ago.
  const longAgo = recordOldJob(store, {
    endedDaysAgo: 40,
    runMs: 3 * 3_600_000,
    logLines: 3000,
    testFiles: 40,
  });
  const veryOld = recordOldJob(store, {
    suite: "refleak",
    endedDaysAgo: 120,
    runMs: 40 * 60_000,
    logLines: 5000,
    testFiles: 25,
  });
  const recent = recordOldJob(store, { endedDaysAgo: 1, runMs: 30 * 60_000, logLines: 200, testFiles: 5 });
  const running = recordOldJob(store, { endedDaysAgo: null, runMs: 20 * 60_000, logLines: 100 });
  store.db
    .prepare("UPDATE jobs SET created_at = ? WHERE id = ?")
    .run(new Date(Date.now() - 60 * DAY_MS).toISOString(), running.jobId);
  const jobs = [longAgo, veryOld, recent, running];
  const before = new Map(jobs.map((job) => [job.jobId, seen(store, job.jobId)]));

  it("folds old jobs' samples, compresses old logs, and every job keeps its peak, tests and chart", async () => {
    const pass = await retention(store, {
      keepSamplesMs: 30 * DAY_MS,
      keepLogsMs: 90 * DAY_MS,
      oldLogs: "compress",
    }).runOnce();
    assert.equal(pass.samplesFolded, 2, "the two jobs that ended more than 30 days ago");
    assert.equal(pass.sampleRowsDeleted, longAgo.samples + veryOld.samples);
    assert.equal(pass.logsCompressed, 1);
    assert.equal(pass.logLinesDeleted, 5000);
    assert.ok(pass.logBytesAfter < pass.logBytesBefore / 5, "compressed to a fraction");

    for (const old of [longAgo, veryOld]) {
      assert.equal(rawSamples(store, old.jobId), 0, "its raw samples are gone");
      assert.equal(store.samples.resolution(old.jobId), "minute");
      const was = before.get(old.jobId);
      const now = seen(store, old.jobId);
      assert.ok(was);
      assert.equal(now.peakRssBytes, was.peakRssBytes, "the kernel's peak");
      assert.deepEqual(now.tests, was.tests, "every per-test figure");
      assert.deepEqual(
        now.chart.sampledPeak,
        was.chart.sampledPeak,
        "the chart's peak, where it was sampled",
      );
      assert.deepEqual(now.chart.tests, was.chart.tests);
      assert.deepEqual(now.chart.limits, was.chart.limits);
      // Coarser (a minute at finest), but the same picture: the same span, highs and lows.
      const minutes = Math.ceil(old.samples / 60);
      assert.ok(now.chart.buckets.length >= Math.min(was.chart.buckets.length, minutes));
      const span = (chart: typeof now.chart) => [chart.buckets[0]?.fromMs, chart.buckets.at(-1)?.toMs];
      assert.deepEqual(span(now.chart), span(was.chart));
      const high = (chart: typeof now.chart) =>
        Math.max(...chart.buckets.map((bucket) => bucket.maxRssBytes));
      const low = (chart: typeof now.chart) => Math.min(...chart.buckets.map((bucket) => bucket.minRssBytes));
      assert.equal(high(now.chart), high(was.chart));
      assert.equal(low(now.chart), low(was.chart));
      // The API's whole series: one point a minute, at the minute's highest memory.
      const series = store.samples.read(old.jobId);
      assert.ok(Math.abs(series.length - old.samples / 60) <= 1, `${series.length} points a minute`);
      assert.equal(Math.max(...series.map((sample) => sample.rssBytes)), was.chart.sampledPeak?.rssBytes);
    }

    const veryOldWas = before.get(veryOld.jobId);
    assert.ok(veryOldWas);
    assert.equal(rawLines(store, veryOld.jobId), 0, "its log's rows are gone");
    assert.deepEqual(store.logs.read(veryOld.jobId), veryOldWas.log, "and every line is still served");
    assert.deepEqual(store.logs.read(veryOld.jobId, 4990), veryOldWas.log.slice(4990));
    assert.deepEqual(store.logs.tail(veryOld.jobId, 200), veryOldWas.tail);
    assert.deepEqual(store.logs.archive(veryOld.jobId)?.action, "compressed");
    assert.equal(store.logs.archive(longAgo.jobId), null, "40 days old: its log is kept as it was");
    assert.equal(rawLines(store, longAgo.jobId), 3000);

    for (const young of [recent, running]) {
      assert.equal(store.samples.resolution(young.jobId), "sample");
      assert.equal(rawSamples(store, young.jobId), young.samples);
      assert.deepEqual(seen(store, young.jobId), before.get(young.jobId), "untouched");
    }

    const again = await retention(store, {
      keepSamplesMs: 30 * DAY_MS,
      keepLogsMs: 90 * DAY_MS,
      oldLogs: "compress",
    }).runOnce();
    assert.equal(again.sampleRowsDeleted + again.logLinesDeleted + again.logsCompressed, 0, "nothing twice");
  });

  it("drops old logs when told to, and says so", async () => {
    const pass = await retention(store, {
      keepSamplesMs: null,
      keepLogsMs: 30 * DAY_MS,
      oldLogs: "drop",
    }).runOnce();
    assert.equal(pass.logsDropped, 2, "the 40-day-old job's, and the 120-day-old one compressed before");
    assert.equal(rawLines(store, longAgo.jobId), 0);
    assert.deepEqual(store.logs.read(longAgo.jobId), []);
    assert.equal(store.logs.tail(longAgo.jobId, 100).lines.length, 0);
    assert.equal(store.logs.archive(longAgo.jobId)?.action, "dropped");
    assert.equal(store.logs.archive(longAgo.jobId)?.lines, 3000);
    assert.deepEqual(store.logs.read(veryOld.jobId), []);
    assert.equal(store.logs.archive(veryOld.jobId)?.action, "dropped");
    assert.equal(rawLines(store, recent.jobId), 200);
  });

  it("rebuilds a job's minutes from its samples before they go, if they lack any", async () => {
    const job = recordOldJob(store, { endedDaysAgo: 50, runMs: 20 * 60_000 });
    const was = seen(store, job.jobId);
    store.db.prepare("DELETE FROM sample_minutes WHERE job_id = ?").run(job.jobId);
    await retention(store, { keepSamplesMs: 30 * DAY_MS, keepLogsMs: null, oldLogs: "compress" }).runOnce();
    assert.equal(rawSamples(store, job.jobId), 0);
    assert.deepEqual(seen(store, job.jobId).chart.sampledPeak, was.chart.sampledPeak);
  });
});
