import type { Statement } from "better-sqlite3";
import type { WatchRunResource } from "../../protocol/resources.ts";
import type { Db } from "./database.ts";

/** The most runs one history answer holds. */
export const MAX_HISTORY = 10_000;

/** How the history answers for a test name: as a test file's, a test case's, or (null) none yet. */
export type HistoryKind = "jobs" | "file" | "case" | null;

/**
 * How often a watch's history changed (migration 0019's triggers count it): every write that can
 * change an answer adds to `changes`; one that can change a run whose job had ended, to `rewrites` too.
 */
export interface HistoryVersion {
  changes: number;
  rewrites: number;
}

/** One answer as read in one transaction, with what a cache needs to tell when and how it goes stale. */
export interface HistorySnapshot {
  version: HistoryVersion;
  /** Every run of a job below this id had ended when it was read (the watch's oldest open job, else its newest + 1). */
  openFrom: number;
  kind: HistoryKind;
  /** A JSON array of WatchRunResource, newest first. */
  json: string;
  runs: number;
}

type Answer = [json: string, runs: number];

/**
 * One run as a JSON object with WatchRunResource's fields, in its order; `j` is the job,
 * `c` its head in watch_commits, and the test's (or the job's) figures are given.
 */
function runAsJson(figures: { outcome: string; peak: string; duration: string }): string {
  return `json_object('jobId', j.id, 'commit', j.commit_sha, 'commitTime', j.commit_time,
    'seenAt', c.seen_at, 'status', j.status, 'outcome', ${figures.outcome},
    'peakRssBytes', ${figures.peak}, 'durationSeconds', round(${figures.duration}, 3)) AS run`;
}

/**
 * The runs `select` gives (newest first, each as `run`) as one JSON array. group_concat takes them
 * in the order the subquery gives them: SQLite does not flatten a subquery with LIMIT into an
 * aggregate, it runs it as a co-routine (watch-history-store.test.ts holds it to that). Sorting
 * inside the aggregate instead (`ORDER BY` as its argument) costs a third more at 10,000 runs.
 */
function asJsonArray(select: string): string {
  return `SELECT '[' || ifnull(group_concat(run, ','), '') || ']', count(*) FROM (${select})`;
}

/**
 * A watch's runs, newest first: each job it queued with its head, and for a test (a file or a case)
 * that test's outcome, peak and duration in the job's final attempt. At 10,000 runs (bench/
 * watch-history.ts) most of an answer's time is making its JSON, so SQLite writes it: one string
 * for the whole answer, where rows handed to JavaScript cost a value each and JSON.stringify
 * then walks them again. The API sends that string as it is; the coordinator's own readers
 * (the dashboard, the regression finder) parse it, which at their hundreds of runs is nothing.
 * Each query takes a lowest job id too (0: all runs), so that a cached answer whose ended runs
 * still stand reads only the newer ones again (coordinator/watches/history-cache.ts).
 */
export class WatchHistoryStore {
  private readonly ofJobs: Statement<[string, number, number], Answer>;
  private readonly ofFile: Statement<[string, string, number, number], Answer>;
  private readonly ofCase: Statement<[string, string, number, number], Answer>;
  private readonly versionOf: Statement<[string], HistoryVersion>;
  private readonly openFromOf: Statement<[string, string], number>;
  private readonly inOneRead: (read: () => HistorySnapshot) => HistorySnapshot;

  constructor(db: Db) {
    // Each run's head is looked up in watch_commits_seen (migration 0017), which holds its seen_at
    // too; SQLite would pick the table's own (watch, sha) index and then read the row.
    // Every column of the job comes from the jobs_of_watch index (migration 0017).
    this.ofJobs = db
      .prepare<[string, number, number], Answer>(
        asJsonArray(`
          SELECT ${runAsJson({
            outcome: "NULL",
            peak: "j.peak_rss_bytes",
            duration: "(julianday(j.finished_at) - julianday(j.started_at)) * 86400",
          })}
          FROM jobs j LEFT JOIN watch_commits c INDEXED BY watch_commits_seen ON c.watch = j.watch AND c.sha = j.commit_sha
          WHERE j.watch = ? AND j.id >= ? ORDER BY j.id DESC LIMIT ?`),
      )
      .raw();
    // A test file: its rows in every job, newest first, are one range of job_test_files_by_name
    // (migration 0017), not a look-up in each job's tests; a row counts if its job is of the watch
    // and it is of the job's final attempt. CROSS JOIN keeps that order of the tables; NOT INDEXED
    // reads each job by its id, which is faster than by (watch, id) in jobs_of_watch.
    const figures = { outcome: "t.outcome", peak: "t.peak_rss_bytes", duration: "t.duration_seconds" };
    this.ofFile = db
      .prepare<[string, string, number, number], Answer>(
        asJsonArray(`
          SELECT ${runAsJson(figures)}
          FROM job_tests t
          CROSS JOIN jobs j NOT INDEXED ON j.id = t.job_id AND j.current_attempt = t.attempt_id
          LEFT JOIN watch_commits c INDEXED BY watch_commits_seen ON c.watch = j.watch AND c.sha = j.commit_sha
          WHERE t.kind = 'file' AND t.name = ? AND j.watch = ? AND t.job_id >= ?
          ORDER BY t.job_id DESC LIMIT ?`),
      )
      .raw();
    // A test case: the watch's jobs, each looked up in its tests by the whole primary key. Cases
    // outnumber files a hundred to one, so they have no index of their own.
    this.ofCase = db
      .prepare<[string, string, number, number], Answer>(
        asJsonArray(`
          SELECT ${runAsJson(figures)}
          FROM jobs j
          JOIN job_tests t ON t.job_id = j.id AND t.attempt_id = j.current_attempt
                           AND t.kind = 'case' AND t.name = ?
          LEFT JOIN watch_commits c INDEXED BY watch_commits_seen ON c.watch = j.watch AND c.sha = j.commit_sha
          WHERE j.watch = ? AND j.id >= ? ORDER BY j.id DESC LIMIT ?`),
      )
      .raw();
    this.versionOf = db.prepare<[string], HistoryVersion>(
      "SELECT changes, rewrites FROM watch_history_versions WHERE watch = ?",
    );
    // The open jobs are few, so they are found through jobs_by_status, not among all of the watch's.
    this.openFromOf = db
      .prepare<[string, string], number>(`
        SELECT coalesce(
          (SELECT min(id) FROM jobs INDEXED BY jobs_by_status
           WHERE status IN ('queued', 'assigned', 'running') AND watch = ?),
          (SELECT max(id) + 1 FROM jobs WHERE watch = ?),
          0)`)
      .pluck();
    this.inOneRead = (read) => db.transaction(read)();
  }

  /**
   * The runs as a JSON array of WatchRunResource, for `test` (null: whole jobs). A name is looked
   * up as a file first: a case is named by its file, class and method, so no name is both.
   */
  json(watch: string, test: string | null, limit: number): string {
    return this.answer(watch, test, limit, 0, test === null ? "jobs" : null).json;
  }

  runs(watch: string, test: string | null, limit: number): WatchRunResource[] {
    return JSON.parse(this.json(watch, test, limit)) as WatchRunResource[];
  }

  /** How often the watch's history changed; zero for a watch whose history never did. */
  version(watch: string): HistoryVersion {
    return this.versionOf.get(watch) ?? { changes: 0, rewrites: 0 };
  }

  /**
   * An answer (its runs of jobs from `fromJob` on) with its version and the watch's oldest open
   * job, all read in one transaction, so they agree even while another process writes. `kind`:
   * how an earlier answer for this name was read (null: find out).
   */
  snapshot(
    watch: string,
    test: string | null,
    limit: number,
    fromJob = 0,
    kind: HistoryKind = test === null ? "jobs" : null,
  ): HistorySnapshot {
    return this.inOneRead(() => ({
      version: this.version(watch),
      openFrom: this.openFromOf.get(watch, watch) ?? 0,
      ...this.answer(watch, test, limit, fromJob, kind),
    }));
  }

  private answer(
    watch: string,
    test: string | null,
    limit: number,
    fromJob: number,
    kind: HistoryKind,
  ): { kind: HistoryKind; json: string; runs: number } {
    const read = (statement: "jobs" | "file" | "case"): { kind: HistoryKind; json: string; runs: number } => {
      const row =
        statement === "jobs" || test === null
          ? this.ofJobs.get(watch, fromJob, limit)
          : (statement === "file" ? this.ofFile : this.ofCase).get(test, watch, fromJob, limit);
      const [json, runs] = row ?? ["[]", 0];
      return { kind: runs > 0 ? statement : null, json, runs };
    };
    if (test === null || kind === "jobs") return { ...read("jobs"), kind: "jobs" };
    if (kind !== null) return { ...read(kind), kind };
    const ofFile = read("file");
    return ofFile.runs > 0 ? ofFile : read("case");
  }
}
