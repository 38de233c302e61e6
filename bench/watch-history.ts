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
 * with 10,000 runs of 40 tests each, for one test (the memory trend of a test) and for whole jobs
 * (the watch page's strip). Measured three ways:
 * - the query: the store alone, the JSON text it answers with (which the API sends as it is);
 * - cold, through HTTP from a real coordinator process on the same data: before each request the
 *   bench adds one finished run of the watch (a job, its 40 tests and its head, written by this
 *   process to the same SQLite file, as a finishing job writes them), so every answer is the first
 *   read since the history changed; each answer is checked to hold that new run;
 * - warm, through HTTP: the same request again and again with nothing written in between.
 * Over HTTP it is the coordinator's Server-Timing (the request reaching express to the response
 * head); the client's time to the whole body over loopback is given for the warm reads.
 * Target: p99 < 50 ms.
 *
 *   npm run build && node dist/bench/watch-history.js [runs=10000] [calls=200] [coldCalls=50]
 */
const RUNS = Number(process.argv[2] ?? 10_000);
const CALLS = Number(process.argv[3] ?? 200);
const COLD_CALLS = Number(process.argv[4] ?? 50);
const TESTS = 40;
const WATCH = "main-bigmem";
const MiB = 1024 * 1024;

/** Writes finished runs of the watch, each with TESTS test files in its final attempt, as a job's end does. */
function runWriter(store: Store): (run: number) => number {
  const finish = store.db.prepare(`UPDATE jobs SET status = 'passed', commit_sha = ?, commit_time = ?,
    current_attempt = ?, started_at = ?, finished_at = ?, peak_rss_bytes = ? WHERE id = ?`);
  const test = store.db.prepare(`INSERT INTO job_tests (job_id, attempt_id, kind, name, outcome, started_at,
    duration_seconds, peak_rss_bytes, detail) VALUES (?, ?, 'file', ?, 'passed', NULL, ?, ?, NULL)`);
  return store.db.transaction((run: number): number => {
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
    // The tests first, as an agent's progress brings them while the job runs, then the job's end.
    for (let index = 0; index < TESTS; index += 1) {
      test.run(job.id, attempt, `test_${index}`, 10 + index + (run % 3) / 7, (100 + index + (run % 7)) * MiB);
    }
    finish.run(sha, committed, attempt, "2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z", 2048 * MiB, job.id);
    return job.id;
  });
}

/** RUNS finished jobs of the watch. */
function seed(store: Store): void {
  store.watches.insert(newWatchRow({ name: WATCH, requester: "bench" }));
  // Paused: the coordinator started on this data must not look the branch up.
  store.watches.setPaused(WATCH, true);
  const addRun = runWriter(store);
  store.db.transaction(() => {
    for (let run = 0; run < RUNS; run += 1) addRun(run);
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

/** Server times of COLD_CALLS requests, each right after a new run was written; checks each holds it. */
async function timeColdRequests(url: string, addRun: () => number): Promise<number[]> {
  const times: number[] = [];
  for (let call = 0; call < COLD_CALLS; call += 1) {
    const newest = addRun();
    const response = await fetch(url);
    const body = (await response.json()) as { runs: { jobId: number }[] };
    if (body.runs[0]?.jobId !== newest) {
      throw new Error(`${url}: the answer's newest run is ${body.runs[0]?.jobId}, not the new ${newest}`);
    }
    const header = response.headers.get("server-timing") ?? "";
    times.push(Number(/dur=([\d.]+)/.exec(header)?.[1] ?? Number.NaN));
  }
  return times;
}

const dir = mkdtempSync(join(tmpdir(), "memfarm-watch-history-"));
try {
  const store = openStore(join(dir, "memfarm.sqlite"));
  const seeded = performance.now();
  seed(store);
  const seedSeconds = (performance.now() - seeded) / 1000;
  console.log(machineLine());
  console.log(
    `watch history: ${RUNS} runs of ${TESTS} tests each (seeded in ${seedSeconds.toFixed(1)} s), ` +
      `${CALLS} calls each (${COLD_CALLS} cold, each after a new run)`,
  );
  const storeTimes = answers.map(({ test, limit }) =>
    timeCalls(() => store.watchHistory.json(WATCH, test, limit)),
  );

  const writeRun = runWriter(store);
  let nextRun = RUNS;
  const addRun = () => writeRun(nextRun++);
  const { child, url } = await startCoordinator(dir);
  const rows: string[][] = [];
  try {
    for (const [index, { name, test, limit }] of answers.entries()) {
      const query = `${test === null ? "" : `test=${test}&`}limit=${limit}`;
      const address = `${url}/api/v1/watches/${WATCH}/history?${query}`;
      await timeRequests(address, 0, 10); // warm-up: JIT and SQLite's page cache
      const cold = await timeColdRequests(address, addRun);
      const warm = await timeRequests(address, CALLS, 10);
      if (warm.status !== 200) throw new Error(`${name}: the coordinator answered ${warm.status}`);
      const inStore = storeTimes[index] ?? [];
      rows.push([
        name,
        ms(percentile(inStore, 0.5)),
        ms(percentile(inStore, 0.99)),
        ms(percentile(cold, 0.5)),
        ms(percentile(cold, 0.99)),
        ms(percentile(warm.serverMs, 0.5)),
        ms(percentile(warm.serverMs, 0.99)),
        ms(percentile(warm.clientMs, 0.99)),
        `${(warm.bytes / 1024).toFixed(0)} KiB`,
      ]);
    }
  } finally {
    await stopCoordinator(child);
    store.close();
  }
  printTable(
    [
      "answer",
      "query p50",
      "query p99",
      "cold p50",
      "cold p99",
      "warm p50",
      "warm p99",
      "warm client p99",
      "body",
    ],
    rows,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
