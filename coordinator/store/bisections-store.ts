import type { Statement } from "better-sqlite3";
import type { BisectionProbe, BisectionResource, RangeCommit } from "../../protocol/resources.ts";
import type { Db } from "./database.ts";

interface BisectionRow {
  regression_id: number;
  state: BisectionResource["state"];
  repo: string;
  branch: string;
  request: string;
  commits: string;
  rounds: number;
  culprit: string | null;
  culprit_range: string | null;
  summary: string | null;
  started_at: string;
  finished_at: string | null;
  comment_url: string | null;
}

interface ProbeRow {
  job_id: number;
  round: number;
  sha: string;
  purpose: BisectionProbe["purpose"];
  verdict: BisectionProbe["verdict"];
  peak_bytes: number | null;
  outcome: string | null;
}

export interface NewBisection {
  regressionId: number;
  repo: string;
  branch: string;
  /** The job request each probe submits, with its commit pinned per probe. */
  request: Record<string, unknown>;
}

/** The bisections of regressions and the probe jobs they ran (coordinator/watches/bisector.ts). */
export class BisectionsStore {
  private readonly byId: Statement<[number], BisectionRow>;
  private readonly probesOf: Statement<[number], ProbeRow>;
  private readonly byJob: Statement<[number], { regression_id: number }>;

  constructor(private readonly db: Db) {
    this.byId = db.prepare("SELECT * FROM bisections WHERE regression_id = ?");
    this.probesOf = db.prepare(
      "SELECT job_id, round, sha, purpose, verdict, peak_bytes, outcome FROM bisection_probes WHERE regression_id = ? ORDER BY round, job_id",
    );
    this.byJob = db.prepare("SELECT regression_id FROM bisection_probes WHERE job_id = ?");
  }

  /** False if the regression has a bisection already. */
  insert(bisection: NewBisection, now = new Date()): boolean {
    return (
      this.db
        .prepare(
          `INSERT OR IGNORE INTO bisections (regression_id, state, repo, branch, request, started_at)
           VALUES (?, 'running', ?, ?, ?, ?)`,
        )
        .run(
          bisection.regressionId,
          bisection.repo,
          bisection.branch,
          JSON.stringify(bisection.request),
          now.toISOString(),
        ).changes > 0
    );
  }

  get(regressionId: number): BisectionResource | null {
    const row = this.byId.get(regressionId);
    return row ? this.toResource(row) : null;
  }

  /** The job request a probe submits. */
  requestOf(regressionId: number): Record<string, unknown> | null {
    const row = this.byId.get(regressionId);
    return row ? (JSON.parse(row.request) as Record<string, unknown>) : null;
  }

  /** The bisections still searching: resumed when the coordinator starts. */
  running(): number[] {
    return this.db
      .prepare<[], { regression_id: number }>("SELECT regression_id FROM bisections WHERE state = 'running'")
      .all()
      .map((row) => row.regression_id);
  }

  /** The bisection a job is a probe of, if any. */
  ofJob(jobId: number): number | null {
    return this.byJob.get(jobId)?.regression_id ?? null;
  }

  setCommits(regressionId: number, commits: RangeCommit[]): void {
    this.db
      .prepare("UPDATE bisections SET commits = ? WHERE regression_id = ?")
      .run(JSON.stringify(commits), regressionId);
  }

  /** A probe job of round `round`; the bisection's round counter moves with it. */
  addProbe(
    regressionId: number,
    round: number,
    probe: { jobId: number; sha: string; purpose: BisectionProbe["purpose"] },
  ): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          "INSERT INTO bisection_probes (regression_id, job_id, round, sha, purpose) VALUES (?, ?, ?, ?, ?)",
        )
        .run(regressionId, probe.jobId, round, probe.sha, probe.purpose);
      this.db
        .prepare("UPDATE bisections SET rounds = MAX(rounds, ?) WHERE regression_id = ?")
        .run(round, regressionId);
    })();
  }

  /** What a finished probe job said; false if it was judged already. */
  judgeProbe(
    regressionId: number,
    jobId: number,
    verdict: NonNullable<BisectionProbe["verdict"]>,
    peakBytes: number | null,
    outcome: string | null,
  ): boolean {
    return (
      this.db
        .prepare(
          `UPDATE bisection_probes SET verdict = ?, peak_bytes = ?, outcome = ?
           WHERE regression_id = ? AND job_id = ? AND verdict IS NULL`,
        )
        .run(verdict, peakBytes, outcome, regressionId, jobId).changes > 0
    );
  }

  /** The search ended: what it found (or why not), once. */
  finish(
    regressionId: number,
    end: {
      state: Exclude<BisectionResource["state"], "running">;
      summary: string;
      culprit?: string | null;
      culpritRange?: string[] | null;
    },
    now = new Date(),
  ): boolean {
    return (
      this.db
        .prepare(
          `UPDATE bisections SET state = ?, summary = ?, culprit = ?, culprit_range = ?, finished_at = ?
           WHERE regression_id = ? AND state = 'running'`,
        )
        .run(
          end.state,
          end.summary,
          end.culprit ?? null,
          end.culpritRange ? JSON.stringify(end.culpritRange) : null,
          now.toISOString(),
          regressionId,
        ).changes > 0
    );
  }

  recordComment(regressionId: number, url: string): void {
    this.db.prepare("UPDATE bisections SET comment_url = ? WHERE regression_id = ?").run(url, regressionId);
  }

  private toResource(row: BisectionRow): BisectionResource {
    const commits = JSON.parse(row.commits) as RangeCommit[];
    return {
      regressionId: row.regression_id,
      state: row.state,
      repo: row.repo,
      branch: row.branch,
      commits,
      rounds: row.rounds,
      culprit: row.culprit === null ? null : (commits.find((commit) => commit.sha === row.culprit) ?? null),
      culpritRange: row.culprit_range === null ? null : (JSON.parse(row.culprit_range) as string[]),
      summary: row.summary,
      probes: this.probesOf.all(row.regression_id).map(
        (probe): BisectionProbe => ({
          jobId: probe.job_id,
          round: probe.round,
          sha: probe.sha,
          purpose: probe.purpose,
          verdict: probe.verdict,
          peakBytes: probe.peak_bytes,
          outcome: probe.outcome,
        }),
      ),
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      commentUrl: row.comment_url,
    };
  }
}
