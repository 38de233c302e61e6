import type { Statement } from "better-sqlite3";
import type { WatchCommitResource, WatchResource } from "../../protocol/resources.ts";
import type { Db } from "./database.ts";

interface WatchRow {
  name: string;
  repo: string;
  branch: string;
  suite: string;
  memlimit_bytes: number | null;
  tests: string;
  labels: string;
  every_seconds: number;
  comment_on_culprit: number;
  paused: number;
  requester: string;
  created_at: string;
  checked_at: string | null;
  head: string | null;
  error: string | null;
  queued_job: number | null;
}

/** What a new watch is made of, validated (see coordinator/watches/watch-request.ts). */
export type NewWatch = Pick<
  WatchResource,
  | "name"
  | "repo"
  | "branch"
  | "suite"
  | "memlimitBytes"
  | "tests"
  | "labels"
  | "everySeconds"
  | "commentOnCulprit"
  | "requester"
>;

/** How many heads a watch's resource lists; the table keeps them all. */
const COMMITS_SHOWN = 50;

/** Watched branches and the heads they saw. */
export class WatchesStore {
  private readonly insertStatement: Statement;
  private readonly byName: Statement<[string], WatchRow>;
  private readonly all: Statement<[], WatchRow>;
  private readonly commitsOf: Statement<
    [string, number],
    { sha: string; seen_at: string; job_id: number | null; commit_time: string | null }
  >;

  constructor(private readonly db: Db) {
    this.insertStatement = db.prepare(`
      INSERT INTO watches (name, repo, branch, suite, memlimit_bytes, tests, labels, every_seconds, comment_on_culprit,
                           requester, created_at)
      VALUES (@name, @repo, @branch, @suite, @memlimitBytes, @tests, @labels, @everySeconds, @commentOnCulprit,
              @requester, @createdAt)`);
    this.byName = db.prepare("SELECT * FROM watches WHERE name = ?");
    this.all = db.prepare("SELECT * FROM watches ORDER BY name");
    // The commit time is the job's, when that job built this very head (a job re-pinned to a newer
    // head built that one).
    this.commitsOf = db.prepare(`
      SELECT c.sha, c.seen_at, c.job_id, j.commit_time
      FROM watch_commits c LEFT JOIN jobs j ON j.id = c.job_id AND j.commit_sha = c.sha
      WHERE c.watch = ? ORDER BY c.seen_at DESC, c.rowid DESC LIMIT ?`);
  }

  /** False if a watch of that name exists already. */
  insert(watch: NewWatch, now = new Date()): boolean {
    if (this.byName.get(watch.name)) return false;
    this.insertStatement.run({
      ...watch,
      tests: JSON.stringify(watch.tests),
      labels: JSON.stringify(watch.labels),
      commentOnCulprit: watch.commentOnCulprit ? 1 : 0,
      createdAt: now.toISOString(),
    });
    return true;
  }

  get(name: string): WatchResource | null {
    const row = this.byName.get(name);
    return row ? this.toResource(row) : null;
  }

  list(): WatchResource[] {
    return this.all.all().map((row) => this.toResource(row, 0));
  }

  setPaused(name: string, paused: boolean): boolean {
    return (
      this.db.prepare("UPDATE watches SET paused = ? WHERE name = ?").run(paused ? 1 : 0, name).changes > 0
    );
  }

  remove(name: string): boolean {
    return this.db.transaction(() => {
      this.db.prepare("DELETE FROM watch_commits WHERE watch = ?").run(name);
      return this.db.prepare("DELETE FROM watches WHERE name = ?").run(name).changes > 0;
    })();
  }

  /** A look-up of the branch failed: the watch shows why, and nothing is queued. */
  recordCheckFailed(name: string, error: string, now = new Date()): void {
    this.db
      .prepare("UPDATE watches SET checked_at = ?, error = ? WHERE name = ?")
      .run(now.toISOString(), error, name);
  }

  /** The branch's head as looked up now (the same as before, or new). */
  recordHead(name: string, head: string, now = new Date()): void {
    this.db
      .prepare("UPDATE watches SET checked_at = ?, head = ?, error = NULL WHERE name = ?")
      .run(now.toISOString(), head, name);
  }

  /** A new head and the job that tests it (null: untested); the watch's queued job is now `jobId`. */
  recordCommit(name: string, sha: string, jobId: number, now = new Date()): void {
    this.db.transaction(() => {
      this.db
        .prepare("INSERT OR REPLACE INTO watch_commits (watch, sha, seen_at, job_id) VALUES (?, ?, ?, ?)")
        .run(name, sha, now.toISOString(), jobId);
      this.db.prepare("UPDATE watches SET queued_job = ? WHERE name = ?").run(jobId, name);
    })();
  }

  /** A newer head took the place of the commit(s) `jobId` was to test: they are recorded as untested. */
  markUntested(name: string, jobId: number): void {
    this.db.prepare("UPDATE watch_commits SET job_id = NULL WHERE watch = ? AND job_id = ?").run(name, jobId);
  }

  private toResource(row: WatchRow, commits = COMMITS_SHOWN): WatchResource {
    return {
      name: row.name,
      repo: row.repo,
      branch: row.branch,
      suite: row.suite,
      memlimitBytes: row.memlimit_bytes,
      tests: JSON.parse(row.tests) as string[],
      labels: JSON.parse(row.labels) as Record<string, string>,
      everySeconds: row.every_seconds,
      commentOnCulprit: row.comment_on_culprit === 1,
      paused: row.paused === 1,
      requester: row.requester,
      createdAt: row.created_at,
      checkedAt: row.checked_at,
      head: row.head,
      error: row.error,
      queuedJobId: row.queued_job,
      commits:
        commits === 0
          ? []
          : this.commitsOf.all(row.name, commits).map(
              (commit): WatchCommitResource => ({
                sha: commit.sha,
                seenAt: commit.seen_at,
                commitTime: commit.commit_time,
                jobId: commit.job_id,
              }),
            ),
    };
  }
}
