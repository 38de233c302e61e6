import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Retention } from "../coordinator/retention/retention.ts";
import type { Db } from "../coordinator/store/database.ts";
import { openStore } from "../coordinator/store/store.ts";
import { silentLogger } from "../protocol/logger.ts";
import { formatBytes } from "../protocol/sizes.ts";
import { machineLine, printTable } from "./agent-bench-util.ts";
import { simulateJob } from "./db-growth/simulate-job.ts";
import { SUITE_PROFILES } from "./db-growth/suite-profiles.ts";

/**
 * How much the coordinator's database grows per job of each suite, and what retention leaves of
 * it: jobs of each suite (bench/db-growth/suite-profiles.ts) are written through the real store as
 * the coordinator writes agents' reports, then a retention pass with the default settings (samples
 * folded after 30 days, logs compressed after 90) runs on them as if 100 days had passed. Bytes are
 * SQLite's pages in use per table (dbstat), indexes included, divided by the jobs; the longest
 * the event loop was held during the pass is what a request arriving then would wait.
 *   npm run build && node dist/bench/db-growth.js [--jobs N]
 */
const { values } = parseArgs({ options: { jobs: { type: "string", default: "3" } } });
const JOBS = Number(values.jobs);
const DAY_MS = 86_400_000;

/** Bytes in use by table (an index counts with its table), from SQLite's dbstat. */
function bytesByTable(db: Db): Map<string, number> {
  db.pragma("wal_checkpoint(TRUNCATE)");
  const rows = db
    .prepare(
      `SELECT COALESCE(m.tbl_name, d.name) AS name, SUM(d.pgsize - d.unused) AS bytes
       FROM dbstat d LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1`,
    )
    .all() as { name: string; bytes: number }[];
  return new Map(rows.map((row) => [row.name, row.bytes]));
}

const GROUPS: Record<string, string[]> = {
  samples: ["samples"],
  "sample minutes": ["sample_minutes", "sample_folds"],
  log: ["log_lines", "log_archives"],
  tests: ["job_tests"],
  "job, attempts": ["jobs", "attempts"],
};

function grouped(bytes: Map<string, number>, base: Map<string, number>): Record<string, number> {
  const result: Record<string, number> = {};
  let total = 0;
  for (const [name, value] of bytes) total += value - (base.get(name) ?? 0);
  for (const [group, tables] of Object.entries(GROUPS))
    result[group] = tables.reduce((sum, table) => sum + (bytes.get(table) ?? 0) - (base.get(table) ?? 0), 0);
  result.total = total;
  return result;
}

async function main(): Promise<void> {
  console.log(machineLine());
  console.log(
    `${JOBS} jobs of each profile (1 of the six-day one), retention: --keep-samples 30d --keep-logs 90d --old-logs compress\n`,
  );
  const rows: string[][] = [];
  const breakdown: string[][] = [];
  for (const [index, profile] of SUITE_PROFILES.entries()) {
    const dir = mkdtempSync(join(tmpdir(), "memfarm-db-growth-"));
    const file = join(dir, "memfarm.sqlite");
    const store = openStore(file);
    try {
      const base = bytesByTable(store.db);
      const nowMs = Date.now();
      const jobs = profile.runSeconds > 86_400 ? 1 : JOBS;
      const started = performance.now();
      for (let job = 0; job < jobs; job += 1) simulateJob(store, profile, nowMs, (100 + job) * DAY_MS);
      const writeSeconds = (performance.now() - started) / 1000;
      const before = grouped(bytesByTable(store.db), base);
      const lag = monitorEventLoopDelay({ resolution: 1 });
      lag.enable();
      const passStarted = performance.now();
      const pass = await new Retention({
        store,
        config: { keepSamplesMs: 30 * DAY_MS, keepLogsMs: 90 * DAY_MS, oldLogs: "compress" },
        log: silentLogger,
        now: () => new Date(nowMs),
      }).runOnce();
      const passSeconds = (performance.now() - passStarted) / 1000;
      lag.disable();
      const after = grouped(bytesByTable(store.db), base);
      const compressedLog = after.log ?? 0;
      const perJob = (bytes: number | undefined) => formatBytes(Math.round((bytes ?? 0) / jobs));
      const name = `${profile.suite}${index === 3 ? " (6 days)" : ""}`;
      rows.push([
        name,
        String(jobs),
        `${(profile.runSeconds / 3600).toFixed(profile.runSeconds < 3600 ? 2 : 0)} h`,
        perJob(before.total),
        perJob(after.total),
        perJob((after.total ?? 0) - compressedLog),
        `${(passSeconds / jobs).toFixed(2)} s`,
        `${(lag.max / 1e6).toFixed(0)} ms`,
        `${writeSeconds.toFixed(1)} s`,
      ]);
      for (const [label, values] of [
        ["before", before],
        ["after", after],
      ] as const) {
        breakdown.push([
          name,
          label,
          ...Object.keys(GROUPS).map((group) => perJob(values[group])),
          `${pass.sampleRowsDeleted > 0 && label === "after" ? `${((pass.logBytesAfter / Math.max(1, pass.logBytesBefore)) * 100).toFixed(0)}% of the log text` : ""}`,
        ]);
      }
      store.db.exec("VACUUM");
      if (index === 3) console.log(`six-day job's file after VACUUM: ${formatBytes(statSync(file).size)}`);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log("\nbytes per job, before and after retention:");
  printTable(
    [
      "suite",
      "jobs",
      "run",
      "before",
      "after (logs compressed)",
      "after (logs dropped)",
      "pass per job",
      "longest event-loop hold",
      "written in",
    ],
    rows,
  );
  console.log("\nper job, by what it holds:");
  printTable(["suite", "", ...Object.keys(GROUPS), "gzip"], breakdown);
}

await main();
