import type { Statement } from "better-sqlite3";
import type { RegressionResource } from "../../protocol/resources.ts";
import type { Db } from "./database.ts";

interface RegressionRow {
  id: number;
  watch: string;
  test: string;
  kind: "memory" | "outcome";
  good_commit: string | null;
  bad_commit: string | null;
  good_job: number;
  bad_job: number;
  base_bytes: number | null;
  new_bytes: number | null;
  noise_bytes: number | null;
  good_outcome: string | null;
  bad_outcome: string | null;
  opened_at: string;
  closed_at: string | null;
  closed_why: string | null;
}

export type NewRegression = Omit<RegressionResource, "id" | "openedAt" | "closedAt" | "closedWhy">;

/** Regressions the watches found, open and closed. */
export class RegressionsStore {
  private readonly insertStatement: Statement;
  private readonly byId: Statement<[number], RegressionRow>;
  private readonly openOf: Statement<[string, string], RegressionRow>;

  constructor(private readonly db: Db) {
    this.insertStatement = db.prepare(`
      INSERT INTO regressions (watch, test, kind, good_commit, bad_commit, good_job, bad_job, base_bytes, new_bytes,
                               noise_bytes, good_outcome, bad_outcome, opened_at)
      VALUES (@watch, @test, @kind, @goodCommit, @badCommit, @goodJobId, @badJobId, @baseBytes, @newBytes,
              @noiseBytes, @goodOutcome, @badOutcome, @openedAt)`);
    this.byId = db.prepare("SELECT * FROM regressions WHERE id = ?");
    this.openOf = db.prepare("SELECT * FROM regressions WHERE watch = ? AND test = ? AND closed_at IS NULL");
  }

  open(regression: NewRegression, now = new Date()): RegressionResource {
    const info = this.insertStatement.run({ ...regression, openedAt: now.toISOString() });
    return this.get(Number(info.lastInsertRowid)) as RegressionResource;
  }

  get(id: number): RegressionResource | null {
    const row = this.byId.get(id);
    return row ? toResource(row) : null;
  }

  /** The open regressions of a watch's test (at most one of each kind). */
  openFor(watch: string, test: string): RegressionResource[] {
    return this.openOf.all(watch, test).map(toResource);
  }

  list(filter: { open?: boolean; watch?: string; limit: number }): RegressionResource[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.open !== undefined) where.push(filter.open ? "closed_at IS NULL" : "closed_at IS NOT NULL");
    if (filter.watch !== undefined) {
      where.push("watch = ?");
      params.push(filter.watch);
    }
    return this.db
      .prepare<unknown[], RegressionRow>(
        `SELECT * FROM regressions ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
      )
      .all(...params, filter.limit)
      .map(toResource);
  }

  /** False if it was closed already. */
  close(id: number, why: string, now = new Date()): boolean {
    return (
      this.db
        .prepare("UPDATE regressions SET closed_at = ?, closed_why = ? WHERE id = ? AND closed_at IS NULL")
        .run(now.toISOString(), why, id).changes > 0
    );
  }
}

function toResource(row: RegressionRow): RegressionResource {
  return {
    id: row.id,
    watch: row.watch,
    test: row.test,
    kind: row.kind,
    goodCommit: row.good_commit,
    badCommit: row.bad_commit,
    goodJobId: row.good_job,
    badJobId: row.bad_job,
    baseBytes: row.base_bytes,
    newBytes: row.new_bytes,
    noiseBytes: row.noise_bytes,
    goodOutcome: row.good_outcome,
    badOutcome: row.bad_outcome,
    openedAt: row.opened_at,
    closedAt: row.closed_at,
    closedWhy: row.closed_why,
  };
}
