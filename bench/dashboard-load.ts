import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { machineLine, printTable } from "./agent-bench-util.ts";
import { startCoordinator, stopCoordinator } from "./coordinator-process.ts";
import { planHistory } from "./dashboard-load/history.ts";
import { seedStore } from "./dashboard-load/seed-store.ts";
import { percentile, timeRequests } from "./dashboard-load/timing.ts";

/**
 * The dashboard and the API under a big history: 100,000 finished jobs and
 * 10 million samples in the store, a real coordinator process on it, and the
 * server time (p50, p99) of the pages and calls a person or a script makes,
 * plus the coordinator's memory after the run. Target: p99 under 50 ms.
 *   npm run build && node dist/bench/dashboard-load.js [--data-dir DIR] [--requests N]
 * With --data-dir the store is built once and reused by later runs.
 */
const TARGET_P99_MS = 50;

const { values } = parseArgs({
  options: {
    "data-dir": { type: "string" },
    requests: { type: "string", default: "200" },
    warmup: { type: "string", default: "10" },
  },
});
const REQUESTS = Number(values.requests);
const WARMUP = Number(values.warmup);

/**
 * What is measured, in one place. `bigJob` is the job with the most samples
 * (500,000: a 1 Hz sampler over almost six days), `someJob` an ordinary one.
 */
function endpoints(bigJob: number, someJob: number): { name: string; path: string; requests?: number }[] {
  return [
    { name: "jobs page (dashboard /)", path: "/" },
    { name: "jobs page, filtered", path: "/?status=failed&suite=refleak" },
    { name: "jobs page, deep cursor", path: "/?cursor=1000" },
    { name: "GET /api/v1/jobs", path: "/api/v1/jobs" },
    { name: "GET /api/v1/jobs filtered", path: "/api/v1/jobs?status=oom&suite=bigmem-smoke" },
    { name: "GET /api/v1/jobs deep cursor", path: "/api/v1/jobs?cursor=1000" },
    { name: "GET /api/v1/jobs?agent=", path: "/api/v1/jobs?agent=arm-07" },
    { name: `job page, ${someJob} (few samples)`, path: `/jobs/${someJob}` },
    { name: `job page, ${bigJob} (500k samples)`, path: `/jobs/${bigJob}` },
    { name: "chart data ?buckets=300, big job", path: `/api/v1/jobs/${bigJob}/samples?buckets=300` },
    { name: "GET /api/v1/jobs/:id big job", path: `/api/v1/jobs/${bigJob}` },
    { name: "GET /api/v1/jobs/:id/tests big job", path: `/api/v1/jobs/${bigJob}/tests` },
    // The whole sample set (a download, not what a page draws): a few requests are enough.
    { name: "all samples (no buckets), big job", path: `/api/v1/jobs/${bigJob}/samples`, requests: 5 },
  ];
}

function statusOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

const MiB = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const dataDir = values["data-dir"] ?? mkdtempSync(join(tmpdir(), "memfarm-dashboard-load-"));
  const dbFile = join(dataDir, "memfarm.sqlite");
  const plan = planHistory();
  console.log(machineLine());
  if (!existsSync(dbFile)) {
    mkdirSync(dataDir, { recursive: true });
    const counts = seedStore(dbFile, plan);
    console.log(
      `store: ${counts.jobs} jobs, ${counts.attempts} attempts, ${counts.samples} samples, ${counts.logLines} log lines, ${counts.tests} test rows; built in ${counts.seconds.toFixed(0)} s, of which ${counts.summarySeconds.toFixed(1)} s the per-minute sample summary (migration 0008's backfill)`,
    );
  } else {
    console.log(`store: reusing ${dbFile}`);
  }
  const bigJob = [...plan.bigJobs.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 1;
  const { child, url } = await startCoordinator(dataDir);
  const pid = child.pid ?? 0;
  const idle = statusOf(pid);
  try {
    const rows: string[][] = [];
    let worstP99 = 0;
    let beforeDownload = idle;
    for (const endpoint of endpoints(bigJob, 50_001)) {
      if (endpoint.requests) beforeDownload = statusOf(pid);
      const count = endpoint.requests ?? REQUESTS;
      const timings = await timeRequests(`${url}${endpoint.path}`, count, Math.min(WARMUP, count));
      if (timings.status !== 200) throw new Error(`${endpoint.path} answered ${timings.status}`);
      const p99 = percentile(timings.serverMs, 0.99);
      if (!endpoint.requests) worstP99 = Math.max(worstP99, p99);
      rows.push([
        endpoint.name,
        String(count),
        percentile(timings.serverMs, 0.5).toFixed(1),
        p99.toFixed(1),
        percentile(timings.clientMs, 0.5).toFixed(1),
        percentile(timings.clientMs, 0.99).toFixed(1),
        `${(timings.bytes / 1024).toFixed(0)} KiB`,
      ]);
    }
    printTable(
      ["request", "n", "server p50 ms", "server p99 ms", "client p50 ms", "client p99 ms", "body"],
      rows,
    );
    const after = statusOf(pid);
    console.log(
      `coordinator RSS: ${MiB(idle.rss)} after start, ${MiB(beforeDownload.rss)} after the pages and chart data (peak ${MiB(beforeDownload.hwm)}), ${MiB(after.rss)} after the whole-sample-set downloads (peak ${MiB(after.hwm)})`,
    );
    console.log(
      `target p99 < ${TARGET_P99_MS} ms (pages and chart data): ${worstP99 < TARGET_P99_MS ? "met" : "missed"}, worst p99 ${worstP99.toFixed(1)} ms`,
    );
  } finally {
    await stopCoordinator(child);
    if (!values["data-dir"]) rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
