import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Statement } from "better-sqlite3";
import { MIGRATIONS_DIR } from "../../coordinator/paths.ts";
import { openDatabase } from "../../coordinator/store/database.ts";
import { AGENTS, between, type HistoryPlan, OUTCOMES, pick, SUITES } from "./history.ts";

const GiB = 1024 ** 3;
const HOUR_MS = 3_600_000;
/** Jobs are submitted every ten minutes, the newest an hour ago: 100,000 jobs are two years of history. */
const SUBMIT_EVERY_MS = 10 * 60_000;
/** Samples of concurrently running jobs arrive interleaved, a report's batch at a time. */
const BATCH = 10;
const TEST_NAMES = Array.from(
  { length: 400 },
  (_, index) =>
    `test_${["bigmem", "lzma", "bz2", "re", "array", "io", "zlib", "str", "bytes", "list"][index % 10]}${index < 10 ? "" : `_${index}`}`,
);

export interface SeedCounts {
  jobs: number;
  attempts: number;
  samples: number;
  logLines: number;
  tests: number;
  seconds: number;
  /** The per-minute summary of the samples, as migration 0008 computes it on an upgrade. */
  summarySeconds: number;
}

interface Statements {
  job: Statement;
  attempt: Statement;
  sample: Statement;
  log: Statement;
  test: Statement;
}

/**
 * Writes the planned history straight into a fresh coordinator database with
 * the migrations' schema (rows as the stores write them), in big
 * transactions: ~1M rows/s instead of the agents' batches of a few.
 */
export function seedStore(file: string, plan: HistoryPlan): SeedCounts {
  const started = performance.now();
  const db = openDatabase(file);
  db.pragma("synchronous = OFF");
  const statements: Statements = {
    job: db.prepare(`
      INSERT INTO jobs (id, suite, status, priority, memlimit_bytes, reservation_bytes, python, ref, repo, commit_sha,
        tests, labels, provenance, args, timeout_seconds, agent, attempt_count, current_attempt, created_at, started_at,
        finished_at, exit_code, peak_rss_bytes, count_run, count_failed, count_skipped, failed_tests, error,
        limit_bytes, limit_kind)
      VALUES (@id, @suite, @status, 'normal', @memlimit, @memlimit, @python, @ref, @repo, @commit, '[]', '{}',
        @provenance, @args, 6000, @agent, @attempts, @attemptId, @createdAt, @startedAt, @finishedAt, @exitCode,
        @peak, @run, @failed, @skipped, @failedTests, @error, @memlimit, 'cgroup-v2')`),
    attempt: db.prepare(
      "INSERT INTO attempts (id, job_id, number, agent, status, started_at, finished_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    sample: db.prepare(
      "INSERT INTO samples (job_id, attempt_id, at, rss_bytes, cpu_percent, processes) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    log: db.prepare(
      "INSERT INTO log_lines (job_id, line_no, attempt_id, stream, text) VALUES (?, ?, ?, ?, ?)",
    ),
    test: db.prepare(`INSERT INTO job_tests (job_id, attempt_id, kind, name, outcome, started_at, duration_seconds,
      peak_rss_bytes, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
  };
  const counts: SeedCounts = {
    jobs: 0,
    attempts: 0,
    samples: 0,
    logLines: 0,
    tests: 0,
    seconds: 0,
    summarySeconds: 0,
  };
  const now = Date.now() - HOUR_MS;
  const CHUNK = 2000;
  for (let first = 1; first <= plan.jobs; first += CHUNK) {
    db.transaction(() => {
      const last = Math.min(plan.jobs, first + CHUNK - 1);
      const running: SampleSource[] = [];
      for (let id = first; id <= last; id += 1) {
        running.push(seedJob(statements, plan, id, now - (plan.jobs - id) * SUBMIT_EVERY_MS, counts));
      }
      counts.samples += interleaveSamples(statements.sample, running);
    })();
  }
  const summaryStarted = performance.now();
  summarizeMinutes(db);
  counts.summarySeconds = (performance.now() - summaryStarted) / 1000;
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  counts.seconds = (performance.now() - started) / 1000;
  return counts;
}

/** A job's samples, produced a batch at a time. */
interface SampleSource {
  jobId: number;
  attemptId: string;
  startMs: number;
  count: number;
  peak: number;
  next: number;
}

/** Writes the samples of jobs that ran at the same time as the agents report them: batches, interleaved. */
function interleaveSamples(insert: Statement, sources: SampleSource[]): number {
  let written = 0;
  let active = sources.filter((source) => source.count > 0);
  while (active.length > 0) {
    for (const source of active) {
      const end = Math.min(source.count, source.next + BATCH);
      for (let index = source.next; index < end; index += 1) {
        // A slow climb with a sawtooth: what a bigmem test file after another looks like.
        const shape = 0.2 + 0.8 * ((index % 3600) / 3600);
        insert.run(
          source.jobId,
          source.attemptId,
          source.startMs + index * 1000,
          Math.round(source.peak * shape),
          50 + (index % 50),
          2 + (index % 5),
        );
      }
      written += end - source.next;
      source.next = end;
    }
    active = active.filter((source) => source.next < source.count);
  }
  return written;
}

function seedJob(
  statements: Statements,
  plan: HistoryPlan,
  id: number,
  createdMs: number,
  counts: SeedCounts,
): SampleSource {
  const random = plan.random;
  const bigSamples = plan.bigJobs.get(id);
  const suite = bigSamples ? "bigmem" : pick(random, SUITES);
  const status = bigSamples ? "passed" : pick(random, OUTCOMES);
  const agent = pick(random, AGENTS);
  const sampleCount = bigSamples ?? plan.smallSamples(id);
  const memlimit = suite === "bigmem" ? 60 * GiB : suite === "refleak" ? 8 * GiB : 2 * GiB;
  const peak = Math.round(memlimit * (0.3 + 0.6 * random()));
  // A lost first attempt now and then: the job ran again elsewhere.
  const attemptCount = random() < 0.05 ? 2 : 1;
  const startMs = createdMs + between(random, 1, 120) * 1000;
  const durationMs = Math.max(sampleCount, 30) * 1000;
  const finishedMs = startMs + durationMs;
  const attemptId = `${id}-${attemptCount}`;
  const testFiles = bigSamples ? 40 : between(random, 3, 30);
  // The job row first: attempts and tests refer to it.
  const failedTests = status === "failed" ? [TEST_NAMES[1] as string] : [];
  const failed = status === "failed" ? failedTests.length : 0;
  statements.job.run({
    id,
    suite,
    status,
    memlimit,
    python: id % 3 === 0 ? null : "/usr/bin/python3",
    ref: id % 3 === 0 ? "main" : null,
    repo: id % 3 === 0 ? "https://github.com/python/cpython.git" : null,
    commit: id % 3 === 0 ? "0123456789abcdef0123456789abcdef01234567" : null,
    provenance: JSON.stringify({ source: "cli", requester: "admin" }),
    args: JSON.stringify(["-m", "test", "-M", "2G"]),
    agent,
    attempts: attemptCount,
    attemptId,
    createdAt: new Date(createdMs).toISOString(),
    startedAt: new Date(startMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    exitCode: status === "passed" ? 0 : status === "failed" ? 2 : null,
    peak: status === "error" || status === "canceled" ? null : peak,
    run: testFiles,
    failed,
    skipped: Math.floor(testFiles / 7),
    failedTests: JSON.stringify(failedTests),
    error: status === "error" ? "the interpreter exited with code 7; regrtest did not run" : null,
  });
  for (let number = 1; number <= attemptCount; number += 1) {
    const lost = number < attemptCount;
    statements.attempt.run(
      `${id}-${number}`,
      id,
      number,
      lost ? pick(random, AGENTS) : agent,
      lost ? "lost" : status,
      new Date(startMs).toISOString(),
      new Date(lost ? startMs : finishedMs).toISOString(),
      lost ? "the agent was lost" : null,
    );
    counts.attempts += 1;
  }
  for (let index = 0; index < testFiles; index += 1) {
    const name = TEST_NAMES[index % TEST_NAMES.length] as string;
    const outcome = status === "failed" && index === 1 ? "failed" : index % 7 === 3 ? "skipped" : "passed";
    statements.test.run(
      id,
      attemptId,
      "file",
      name,
      outcome,
      startMs + Math.floor((index * durationMs) / testFiles),
      durationMs / testFiles / 1000,
      Math.round(peak * random()),
      null,
    );
    counts.tests += 1;
  }
  if (bigSamples) {
    // bigmem -v: a line per test case, hundreds of cases per file.
    for (let index = 0; index < 360; index += 1) {
      statements.test.run(
        id,
        attemptId,
        "case",
        `${TEST_NAMES[index % 40]}.Case.test_${index}`,
        "passed",
        null,
        1.5,
        null,
        null,
      );
      counts.tests += 1;
    }
  }
  const logLines = bigSamples ? 20_000 : random() < 0.05 ? between(random, 100, 300) : 0;
  for (let line = 1; line <= logLines; line += 1) {
    statements.log.run(
      id,
      line,
      attemptId,
      "stdout",
      `${Math.floor(line / 60)}:${String(line % 60).padStart(2, "0")} load avg: 1.52 test_case_${line} (test.test_bigmem.StrTest.test_case_${line}) ... ok`,
    );
  }
  counts.logLines += logLines;
  counts.jobs += 1;
  return { jobId: id, attemptId, startMs, count: sampleCount, peak, next: 0 };
}

/**
 * Samples written straight into the table bypass SamplesStore.append, which
 * keeps sample_minutes; fill it as migration 0008 does for the samples a farm
 * stored before it (the same statements, so this also times that upgrade).
 */
function summarizeMinutes(db: ReturnType<typeof openDatabase>): void {
  const migration = readFileSync(join(MIGRATIONS_DIR, "0008_sample_minutes.sql"), "utf8");
  const backfill = migration.slice(migration.indexOf("INSERT INTO sample_minutes"));
  db.transaction(() => {
    db.exec("DELETE FROM sample_minutes");
    db.exec(backfill);
  })();
}
