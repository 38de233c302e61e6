import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { compileCoordinatorConfig } from "../../../coordinator/config.ts";
import { Coordinator } from "../../../coordinator/coordinator.ts";
import { databaseFileIn } from "../../../coordinator/store/backup.ts";
import { openStore } from "../../../coordinator/store/store.ts";
import { silentLogger } from "../../../protocol/logger.ts";
import { runCli } from "../../helpers/cli.ts";
import { type OldJob, recordOldJob } from "../../helpers/old-jobs.ts";

/**
 * A coordinator on a store with a history: what retention leaves is still served by the API and
 * the job page, and nightly backups, good or failed, show in /metrics while the farm goes on.
 */
describe("a farm with retention and nightly backups", () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-retention-http-"));
  const dataDir = join(dir, "data");
  const backupDir = join(dir, "backups");
  let coordinator: Coordinator;
  let old: OldJob;
  let beforeLog: unknown;
  let beforeChart: { sampledPeak: unknown; peakRssBytes: number };

  const get = async (path: string) => {
    const response = await fetch(`${coordinator.httpUrl}${path}`);
    return { status: response.status, text: await response.text() };
  };

  before(async () => {
    mkdirSync(dataDir, { recursive: true });
    const seeded = openStore(databaseFileIn(dataDir));
    old = recordOldJob(seeded, { endedDaysAgo: 200, runMs: 2 * 3_600_000, logLines: 4000, testFiles: 12 });
    seeded.close();
    coordinator = await Coordinator.start(
      compileCoordinatorConfig(
        { port: "0", dataDir, backupDir, backupKeep: "2", keepSamples: "30d", keepLogs: "90d" },
        {},
      ),
      silentLogger,
    );
    beforeLog = JSON.parse((await get(`/api/v1/jobs/${old.jobId}/log`)).text).lines;
    beforeChart = JSON.parse((await get(`/api/v1/jobs/${old.jobId}/samples?buckets=300`)).text);
  });
  after(async () => {
    await coordinator?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves an old job's compressed log, its chart and its page after retention", async () => {
    const pass = await coordinator.retention.runOnce();
    assert.equal(pass.samplesFolded, 1);
    assert.equal(pass.logsCompressed, 1);
    const log = JSON.parse((await get(`/api/v1/jobs/${old.jobId}/log`)).text);
    assert.equal(log.archived.action, "compressed");
    assert.deepEqual(log.lines, beforeLog);
    const text = await get(`/api/v1/jobs/${old.jobId}/log?format=text`);
    assert.equal(text.text.split("\n").length, 4001);
    const chart = JSON.parse((await get(`/api/v1/jobs/${old.jobId}/samples?buckets=300`)).text);
    assert.ok(chart.buckets.length > 100, "the chart still draws");
    assert.deepEqual(chart.sampledPeak, beforeChart.sampledPeak);
    assert.equal(chart.peakRssBytes, beforeChart.peakRssBytes);
    const series = JSON.parse((await get(`/api/v1/jobs/${old.jobId}/samples`)).text);
    assert.equal(series.resolution, "minute");
    const page = await get(`/jobs/${old.jobId}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /test_case_3999 \.\.\. ok/, "the log's tail on the job page");
    assert.match(page.text, /<svg id="memory-chart" class="chart"/, "and its chart");
  });

  it("counts nightly backups, good and failed, and a failed one stops nothing", async () => {
    const metric = async (outcome: string) => {
      const { text } = await get("/metrics");
      return Number(
        new RegExp(`^memfarm_backups_total\\{outcome="${outcome}"\\} (\\d+)$`, "m").exec(text)?.[1],
      );
    };
    assert.equal(await metric("ok"), 0);
    const backups = coordinator.backups;
    assert.ok(backups);
    const good = await backups.runNow();
    assert.ok(good.ok);
    assert.equal(await metric("ok"), 1);
    assert.match((await get("/metrics")).text, /^memfarm_backup_last_success_timestamp_seconds \d+/m);
    assert.equal(readdirSync(backupDir).length, 1);

    rmSync(backupDir, { recursive: true });
    const failed = await backups.runNow();
    assert.equal(failed.ok, false);
    assert.equal(await metric("failed"), 1);
    assert.equal((await get("/healthz")).status, 200, "the farm goes on");
    assert.equal((await get(`/api/v1/jobs/${old.jobId}`)).status, 200);
  });
});

describe("a farm that drops old logs", () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-retention-drop-"));
  const dataDir = join(dir, "data");
  let coordinator: Coordinator;
  let old: OldJob;
  before(async () => {
    mkdirSync(dataDir, { recursive: true });
    const seeded = openStore(databaseFileIn(dataDir));
    old = recordOldJob(seeded, { endedDaysAgo: 100, runMs: 30 * 60_000, logLines: 300, testFiles: 3 });
    seeded.close();
    coordinator = await Coordinator.start(
      compileCoordinatorConfig(
        { port: "0", dataDir, keepSamples: "forever", keepLogs: "90d", oldLogs: "drop" },
        {},
      ),
      silentLogger,
    );
  });
  after(async () => {
    await coordinator?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("says the log was dropped: in the API, on the job page and to memfarm logs", async () => {
    const pass = await coordinator.retention.runOnce();
    assert.equal(pass.logsDropped, 1);
    assert.equal(pass.sampleRowsDeleted, 0, "--keep-samples forever");
    const response = await fetch(`${coordinator.httpUrl}/api/v1/jobs/${old.jobId}/log`);
    const log = (await response.json()) as { lines: unknown[]; archived: { action: string; lines: number } };
    assert.deepEqual(log.lines, []);
    assert.equal(log.archived.action, "dropped");
    assert.equal(log.archived.lines, 300);
    const page = await (await fetch(`${coordinator.httpUrl}/jobs/${old.jobId}`)).text();
    assert.match(page, /This job's log \(300 lines\) was dropped by retention on/);
    const run = await runCli(["logs", String(old.jobId), "--url", coordinator.httpUrl]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "");
    assert.match(
      run.stderr,
      new RegExp(`job ${old.jobId}'s log \\(300 lines\\) was dropped by the farm's retention on `),
    );
  });
});
