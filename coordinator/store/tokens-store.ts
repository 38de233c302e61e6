import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Db } from "./database.ts";

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** API tokens, stored only as SHA-256 hashes; revoked tokens stay for the record. */
export class TokensStore {
  constructor(private readonly db: Db) {}

  /** Mints a token for `owner` and returns it; only its hash is kept. */
  create(owner: string, now = new Date()): string {
    const token = `mf_${randomBytes(24).toString("base64url")}`;
    this.db
      .prepare("INSERT INTO api_tokens (owner, sha256, created_at) VALUES (?, ?, ?)")
      .run(owner, sha256(token), now.toISOString());
    return token;
  }

  /** The owner of a valid token, or null. */
  ownerOf(token: string): string | null {
    const hash = sha256(token);
    const row = this.db
      .prepare<[string], { owner: string; sha256: string }>(
        "SELECT owner, sha256 FROM api_tokens WHERE sha256 = ? AND revoked_at IS NULL",
      )
      .get(hash);
    if (!row) return null;
    // The lookup is by hash already; the constant-time compare keeps it honest if that ever changes.
    return timingSafeEqual(Buffer.from(row.sha256), Buffer.from(hash)) ? row.owner : null;
  }

  isValid(token: string): boolean {
    return this.ownerOf(token) !== null;
  }
}
