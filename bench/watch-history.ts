import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../coordinator/store/store.ts";
import { newJobRow } from "../test/helpers/new-job.ts";
import { machineLine, printTable } from "./agent-bench-util.ts";

/**
 * Watch history: how long the coordinator takes to answer `GET /watches/:name/history` (the store
 * query and the JSON it answers with) for a watch with 10,000 runs of 40 tests each, for one test
 * (the memory trend of a test) and for whole jobs. Target: p99 < 50 ms.
 *
 *   npm run build && node dist/bench/watch-history.js [runs=10000] [calls=200]
 */
const RUNS = Number(process.argv[2] ?? 10_000);
const CALLS = Number(process.argv[3] ?? 200);
const TESTS = 40;
const MiB = 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), "memfarm-watch-history-"));
try {
  const store = openStore(join(dir, "memfarm.sqlite"));
  store.watches.insert({
    name: "main-bigmem",
    repo: "https://github.com/python/cpython",
    branch: "main",
    suite: "bigmem",
    memlimitBytes: null,
    tests: [],
    labels: {},
    commentOnCulprit: false,
    everySeconds: 900,
    requester: "bench",
  });
  const seeded = performance.now();
  const finish = store.db.prepare(`UPDATE jobs SET status = 'passed', commit_sha = ?, current_attempt = ?,
    started_at = ?, finished_at = ?, peak_rss_bytes = ? WHERE id = ?`);
  const test = store.db.prepare(`INSERT INTO job_tests (job_id, attempt_id, kind, name, outcome, started_at,
    duration_seconds, peak_rss_bytes, detail) VALUES (?, ?, 'file', ?, 'passed', NULL, ?, ?, NULL)`);
  store.db.transaction(() => {
    for (let run = 0; run < RUNS; run += 1) {
      const job = store.jobs.insert(
        newJobRow({
          suite: "bigmem",
          ref: "main",
          repo: "https://github.com/python/cpython",
          provenance: { source: "watch", requester: "bench", watch: "main-bigmem" },
        }),
      );
      const sha = run.toString(16).padStart(40, "0");
      const attempt = `${job.id}-1`;
      store.watches.recordCommit("main-bigmem", sha, job.id);
      finish.run(sha, attempt, "2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z", 2048 * MiB, job.id);
      for (let index = 0; index < TESTS; index += 1) {
        test.run(job.id, attempt, `test_${index}`, 10 + index, (100 + index + (run % 7)) * MiB);
      }
    }
  })();
  const seedSeconds = (performance.now() - seeded) / 1000;

  const time = (call: () => unknown) => {
    const times: number[] = [];
    for (let n = 0; n < CALLS; n += 1) {
      const started = performance.now();
      JSON.stringify(call());
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const at = (fraction: number) =>
      times[Math.min(times.length - 1, Math.ceil(fraction * times.length) - 1)] ?? 0;
    return [`${at(0.5).toFixed(2)} ms`, `${at(0.99).toFixed(2)} ms`, `${(times.at(-1) ?? 0).toFixed(2)} ms`];
  };
  console.log(machineLine());
  console.log(
    `watch history: ${RUNS} runs of ${TESTS} tests each (seeded in ${seedSeconds.toFixed(1)} s), ${CALLS} calls each`,
  );
  printTable(
    ["answer", "p50", "p99", "max"],
    [
      ["one test, the last 200 runs", ...time(() => store.watches.history("main-bigmem", "test_7", 200))],
      [`one test, all ${RUNS} runs`, ...time(() => store.watches.history("main-bigmem", "test_7", RUNS))],
      ["whole jobs, the last 200 runs", ...time(() => store.watches.history("main-bigmem", null, 200))],
      [`whole jobs, all ${RUNS} runs`, ...time(() => store.watches.history("main-bigmem", null, RUNS))],
    ],
  );
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
