import { createHash, randomBytes } from "node:crypto";
import type { Statement } from "better-sqlite3";
import type { Db } from "./database.ts";

/** How long a dashboard sign-in lasts. */
export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Dashboard sign-in sessions. The browser's cookie holds a random session id;
 * the store keeps only its hash and the hash of the API token it was opened
 * with, so the raw token never sits in a cookie and a revoked token ends its
 * sessions at once.
 */
export class SessionsStore {
  private readonly insert: Statement;
  private readonly ownerStatement: Statement<[string, string], { owner: string }>;
  private readonly remove: Statement;
  private readonly expired: Statement;

  constructor(db: Db) {
    this.insert = db.prepare(
      "INSERT INTO dashboard_sessions (id_sha256, token_sha256, created_at, expires_at) VALUES (?, ?, ?, ?)",
    );
    this.ownerStatement = db.prepare(`
      SELECT t.owner FROM dashboard_sessions s JOIN api_tokens t ON t.sha256 = s.token_sha256
      WHERE s.id_sha256 = ? AND s.expires_at > ? AND t.revoked_at IS NULL`);
    this.remove = db.prepare("DELETE FROM dashboard_sessions WHERE id_sha256 = ?");
    this.expired = db.prepare("DELETE FROM dashboard_sessions WHERE expires_at <= ?");
  }

  /** Opens a session for a token already checked as valid; returns the session id for the cookie. */
  open(token: string, now = new Date()): string {
    this.expired.run(now.toISOString());
    const id = randomBytes(32).toString("base64url");
    const expires = new Date(now.getTime() + SESSION_LIFETIME_MS);
    this.insert.run(sha256(id), sha256(token), now.toISOString(), expires.toISOString());
    return id;
  }

  /** The owner of the token behind a live session, or null (unknown, expired or revoked). */
  ownerOf(sessionId: string, now = new Date()): string | null {
    return this.ownerStatement.get(sha256(sessionId), now.toISOString())?.owner ?? null;
  }

  close(sessionId: string): void {
    this.remove.run(sha256(sessionId));
  }
}
