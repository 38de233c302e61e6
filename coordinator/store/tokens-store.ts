import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { TokenResource } from "../../protocol/resources.ts";
import type { Db } from "./database.ts";

interface TokenRow {
  id: number;
  owner: string;
  created_at: string;
  revoked_at: string | null;
}

function toTokenResource(row: TokenRow): TokenResource {
  return { id: row.id, owner: row.owner, createdAt: row.created_at, revokedAt: row.revoked_at };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** API tokens, stored only as SHA-256 hashes; revoked tokens stay for the record. */
export class TokensStore {
  constructor(private readonly db: Db) {}

  /** Mints a token for `owner` and returns it; only its hash is kept. */
  create(owner: string, now = new Date()): string {
    return this.issue(owner, now).token;
  }

  /** Mints a token for `owner`: the secret (shown once, never stored) and its record. */
  issue(owner: string, now = new Date()): { token: string; record: TokenResource } {
    const token = `mf_${randomBytes(24).toString("base64url")}`;
    const info = this.db
      .prepare("INSERT INTO api_tokens (owner, sha256, created_at) VALUES (?, ?, ?)")
      .run(owner, sha256(token), now.toISOString());
    return { token, record: this.get(Number(info.lastInsertRowid)) as TokenResource };
  }

  get(id: number): TokenResource | null {
    const row = this.db
      .prepare<[number], TokenRow>("SELECT id, owner, created_at, revoked_at FROM api_tokens WHERE id = ?")
      .get(id);
    return row ? toTokenResource(row) : null;
  }

  /** Every token, revoked ones too, oldest first; never the secrets or their hashes. */
  list(): TokenResource[] {
    return this.db
      .prepare<[], TokenRow>("SELECT id, owner, created_at, revoked_at FROM api_tokens ORDER BY id")
      .all()
      .map(toTokenResource);
  }

  /** Revokes a token from now on (a revoked token stays revoked, with its first revocation time). */
  revoke(id: number, now = new Date()): TokenResource | null {
    this.db
      .prepare("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
      .run(now.toISOString(), id);
    return this.get(id);
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
