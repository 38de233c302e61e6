import type { Statement } from "better-sqlite3";
import type { Db } from "./database.ts";

/** An agent's NKey user in force: the server lets it in with these permissions. */
export interface AgentNkey {
  agent: string;
  publicKey: string;
}

/** The public NKeys of agents' NATS users; seeds are never stored. */
export class NatsCredentialsStore {
  private readonly revokeActive: Statement<[string, string]>;
  private readonly insert: Statement<[string, string, string]>;
  private readonly active: Statement<[], AgentNkey>;
  private readonly activeOf: Statement<[string], AgentNkey>;

  constructor(private readonly db: Db) {
    this.revokeActive = db.prepare(
      "UPDATE nats_credentials SET revoked_at = ? WHERE agent = ? AND revoked_at IS NULL",
    );
    this.insert = db.prepare("INSERT INTO nats_credentials (agent, public_key, created_at) VALUES (?, ?, ?)");
    this.active = db.prepare(
      "SELECT agent, public_key AS publicKey FROM nats_credentials WHERE revoked_at IS NULL ORDER BY agent",
    );
    this.activeOf = db.prepare(
      "SELECT agent, public_key AS publicKey FROM nats_credentials WHERE agent = ? AND revoked_at IS NULL",
    );
  }

  /** Puts `publicKey` in force for `agent`, revoking the key it had (one key per agent). */
  replace(agent: string, publicKey: string, now = new Date()): void {
    this.db.transaction(() => {
      this.revokeActive.run(now.toISOString(), agent);
      this.insert.run(agent, publicKey, now.toISOString());
    })();
  }

  /** Revokes the agent's key; false if it had none in force. */
  revoke(agent: string, now = new Date()): boolean {
    return this.revokeActive.run(now.toISOString(), agent).changes > 0;
  }

  activeKeyOf(agent: string): string | null {
    return this.activeOf.get(agent)?.publicKey ?? null;
  }

  listActive(): AgentNkey[] {
    return this.active.all();
  }
}
