import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type Store } from "../coordinator/store/store.ts";
import { newJobRow } from "../test/helpers/new-job.ts";
import { newWatchRow } from "../test/helpers/new-watch.ts";
import { machineLine, printTable } from "./agent-bench-util.ts";
import { startCoordinator, stopCoordinator } from "./coordinator-process.ts";
import { percentile, timeRequests } from "./dashboard-load/timing.ts";

/**
 * Watch history: how long the coordinator takes to answer `GET /watches/:name/history` for a watch
 * with 10,000 runs of 40 tests each, for one test (the memory trend of a test) and for whole jobs.
 * Measured twice: the store alone (the JSON text it answers with, which the API sends as it is),
 * and through HTTP from a real coordinator process on the same data (its Server-Timing, the time
 * from the request reaching express to the response head, and the client's time to the whole
 * body over loopback). Target: p99 < 50 ms.
 *
 *   npm run build && node dist/bench/watch-history.js [runs=10000] [calls=200]
 */
const RUNS = Number(process.argv[2] ?? 10_000);
const CALLS = Number(process.argv[3] ?? 200);
const TESTS = 40;
const WATCH = "main-bigmem";
const MiB = 1024 * 1024;

/** RUNS finished jobs of the watch, each with TESTS test files in its final attempt. */
function seed(store: Store): void {
  store.watches.insert(newWatchRow({ name: WATCH, requester: "bench" }));
  // Paused: the coordinator started on this data must not look the branch up.
  store.watches.setPaused(WATCH, true);
  const finish = store.db.prepare(`UPDATE jobs SET status = 'passed', commit_sha = ?, commit_time = ?,
    current_attempt = ?, started_at = ?, finished_at = ?, peak_rss_bytes = ? WHERE id = ?`);
  const test = store.db.prepare(`INSERT INTO job_tests (job_id, attempt_id, kind, name, outcome, started_at,
    duration_seconds, peak_rss_bytes, detail) VALUES (?, ?, 'file', ?, 'passed', NULL, ?, ?, NULL)`);
  store.db.transaction(() => {
    for (let run = 0; run < RUNS; run += 1) {
      const job = store.jobs.insert(
        newJobRow({
          suite: "bigmem",
          ref: "main",
          repo: "https://github.com/python/cpython",
          provenance: { source: "watch", requester: "bench", watch: WATCH },
        }),
      );
      const sha = run.toString(16).padStart(40, "0");
      const attempt = `${job.id}-1`;
      const committed = new Date(Date.UTC(2026, 0, 1) + run * 60_000).toISOString();
      store.watches.recordCommit(WATCH, sha, job.id);
      finish.run(sha, committed, attempt, "2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z", 2048 * MiB, job.id);
      for (let index = 0; index < TESTS; index += 1) {
        test.run(
          job.id,
          attempt,
          `test_${index}`,
          10 + index + (run % 3) / 7,
          (100 + index + (run % 7)) * MiB,
        );
      }
    }
  })();
}

function timeCalls(call: () => string): number[] {
  const times: number[] = [];
  for (let n = 0; n < CALLS; n += 1) {
    const started = performance.now();
    call();
    times.push(performance.now() - started);
  }
  return times;
}

const ms = (value: number) => `${value.toFixed(2)} ms`;

const answers: { name: string; test: string | null; limit: number }[] = [
  { name: "one test, the last 200 runs", test: "test_7", limit: 200 },
  { name: `one test, all ${RUNS} runs`, test: "test_7", limit: RUNS },
  { name: "whole jobs, the last 200 runs", test: null, limit: 200 },
  { name: `whole jobs, all ${RUNS} runs`, test: null, limit: RUNS },
];

const dir = mkdtempSync(join(tmpdir(), "memfarm-watch-history-"));
try {
  const store = openStore(join(dir, "memfarm.sqlite"));
  const seeded = performance.now();
  seed(store);
  const seedSeconds = (performance.now() - seeded) / 1000;
  console.log(machineLine());
  console.log(
    `watch history: ${RUNS} runs of ${TESTS} tests each (seeded in ${seedSeconds.toFixed(1)} s), ${CALLS} calls each`,
  );
  const storeTimes = answers.map(({ test, limit }) =>
    timeCalls(() => store.watchHistory.json(WATCH, test, limit)),
  );
  store.close();

  const { child, url } = await startCoordinator(dir);
  const rows: string[][] = [];
  try {
    for (const [index, { name, test, limit }] of answers.entries()) {
      const query = `${test === null ? "" : `test=${test}&`}limit=${limit}`;
      const http = await timeRequests(`${url}/api/v1/watches/${WATCH}/history?${query}`, CALLS, 10);
      if (http.status !== 200) throw new Error(`${name}: the coordinator answered ${http.status}`);
      const inStore = storeTimes[index] ?? [];
      rows.push([
        name,
        ms(percentile(inStore, 0.5)),
        ms(percentile(inStore, 0.99)),
        ms(percentile(http.serverMs, 0.5)),
        ms(percentile(http.serverMs, 0.99)),
        ms(percentile(http.clientMs, 0.99)),
        `${(http.bytes / 1024).toFixed(0)} KiB`,
      ]);
    }
  } finally {
    await stopCoordinator(child);
  }
  printTable(
    ["answer", "store p50", "store p99", "HTTP server p50", "HTTP server p99", "client p99", "body"],
    rows,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
