import type { Statement } from "better-sqlite3";
import type { Db } from "./database.ts";

/** How long a delivery id is remembered: GitHub redelivers only recent deliveries (3 days). */
const KEEP_MS = 7 * 24 * 3600_000;

/** Webhook deliveries already handled, by `X-GitHub-Delivery`, so that a redelivery does nothing twice. */
export class DeliveriesStore {
  private readonly insert: Statement<{ id: string; event: string; at: string }>;
  private readonly prune: Statement<[string]>;

  constructor(db: Db) {
    this.insert = db.prepare(
      "INSERT OR IGNORE INTO github_deliveries (delivery_id, event, received_at) VALUES (@id, @event, @at)",
    );
    this.prune = db.prepare("DELETE FROM github_deliveries WHERE received_at < ?");
  }

  /** True the first time a delivery id is seen, false for a redelivery. */
  firstSeen(id: string, event: string, now = new Date()): boolean {
    this.prune.run(new Date(now.getTime() - KEEP_MS).toISOString());
    return this.insert.run({ id, event, at: now.toISOString() }).changes === 1;
  }
}
