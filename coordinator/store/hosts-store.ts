import type { Statement } from "better-sqlite3";
import type { InstalledAgentOptions } from "../../protocol/installed-agent-config.ts";
import type { HostLogLine, HostOperation, HostResource, HostStatus } from "../../protocol/resources.ts";
import type { Db } from "./database.ts";

interface HostRow {
  name: string;
  ssh_user: string;
  address: string;
  port: number;
  labels: string;
  status: HostStatus;
  operation: HostOperation;
  step: string | null;
  error: string | null;
  facts: string | null;
  agent_version: string | null;
  start_mode: string | null;
  agent_options: string;
  created_at: string;
  updated_at: string;
}

/** A host row without its log: what the provisioner reads back. */
export interface HostRecord {
  name: string;
  user: string;
  address: string;
  port: number;
  labels: Record<string, string>;
  status: HostStatus;
  operation: HostOperation;
  startMode: string | null;
  agentVersion: string | null;
  agentOptions: InstalledAgentOptions;
}

export interface PinnedHostKey {
  type: string;
  fingerprint: string;
}

/** Hosts added over SSH, their step logs and the farm's known-hosts store. */
export class HostsStore {
  private readonly upsertStarted: Statement;
  private readonly byName: Statement<[string], HostRow>;
  private readonly all: Statement<[], HostRow>;
  private readonly setStep: Statement<[string, string, string]>;
  private readonly finish: Statement<[string, string | null, string | null, string, string]>;
  private readonly update: Statement;
  private readonly appendLog: Statement<[string, string, string, string, string]>;
  private readonly logAfter: Statement<[string, number], HostLogLine>;
  private readonly keyOf: Statement<[string, number], PinnedHostKey>;
  private readonly pin: Statement<[string, number, string, string, string]>;
  private readonly unpin: Statement<[string, number]>;

  constructor(db: Db) {
    // Starting an operation on a host not busy: `changes === 0` means another one runs.
    this.upsertStarted = db.prepare(`
      INSERT INTO hosts (name, ssh_user, address, port, labels, agent_options, status, operation, created_at, updated_at)
      VALUES (@name, @user, @address, @port, @labels, @agentOptions, 'working', @operation, @now, @now)
      ON CONFLICT (name) DO UPDATE SET
        ssh_user = @user, address = @address, port = @port, labels = @labels,
        agent_options = @agentOptions, status = 'working',
        operation = @operation, step = NULL, error = NULL, updated_at = @now
      WHERE hosts.status != 'working'`);
    this.byName = db.prepare("SELECT * FROM hosts WHERE name = ?");
    this.all = db.prepare("SELECT * FROM hosts ORDER BY name");
    this.setStep = db.prepare("UPDATE hosts SET step = ?, updated_at = ? WHERE name = ?");
    this.finish = db.prepare(
      "UPDATE hosts SET status = ?, step = ?, error = ?, updated_at = ? WHERE name = ? AND status = 'working'",
    );
    this.update = db.prepare(`
      UPDATE hosts SET facts = COALESCE(@facts, facts), agent_version = COALESCE(@agentVersion, agent_version),
        start_mode = COALESCE(@startMode, start_mode), updated_at = @now
      WHERE name = @name`);
    this.appendLog = db.prepare(
      "INSERT INTO host_log (host, at, step, level, message) VALUES (?, ?, ?, ?, ?)",
    );
    this.logAfter = db.prepare(
      "SELECT seq, at, step, level, message FROM host_log WHERE host = ? AND seq > ? ORDER BY seq",
    );
    this.keyOf = db.prepare(
      "SELECT key_type AS type, fingerprint FROM host_keys WHERE address = ? AND port = ?",
    );
    this.pin = db.prepare(
      "INSERT INTO host_keys (address, port, key_type, fingerprint, recorded_at) VALUES (?, ?, ?, ?, ?)",
    );
    this.unpin = db.prepare("DELETE FROM host_keys WHERE address = ? AND port = ?");
  }

  /** Marks the host busy with `operation`; false when another operation is running on it. */
  begin(
    host: {
      name: string;
      user: string;
      address: string;
      port: number;
      labels: Record<string, string>;
      agentOptions: InstalledAgentOptions;
    },
    operation: HostOperation,
    now = new Date(),
  ): boolean {
    return (
      this.upsertStarted.run({
        name: host.name,
        user: host.user,
        address: host.address,
        port: host.port,
        labels: JSON.stringify(host.labels),
        agentOptions: JSON.stringify(host.agentOptions),
        operation,
        now: now.toISOString(),
      }).changes > 0
    );
  }

  enterStep(name: string, step: string, now = new Date()): void {
    this.setStep.run(step, now.toISOString(), name);
  }

  end(name: string, status: Exclude<HostStatus, "working">, step: string | null, error: string | null): void {
    this.finish.run(status, step, error, new Date().toISOString(), name);
  }

  record(name: string, fields: { facts?: unknown; agentVersion?: string; startMode?: string }): void {
    this.update.run({
      name,
      facts: fields.facts === undefined ? null : JSON.stringify(fields.facts),
      agentVersion: fields.agentVersion ?? null,
      startMode: fields.startMode ?? null,
      now: new Date().toISOString(),
    });
  }

  log(name: string, step: string, level: HostLogLine["level"], message: string): void {
    this.appendLog.run(name, new Date().toISOString(), step, level, message);
  }

  get(name: string): HostRecord | null {
    const row = this.byName.get(name);
    return row ? toRecord(row) : null;
  }

  resource(name: string, logAfter = 0): HostResource | null {
    const row = this.byName.get(name);
    if (!row) return null;
    const key = this.keyOf.get(row.address, row.port);
    return {
      name: row.name,
      target: `ssh://${row.ssh_user}@${row.address.includes(":") ? `[${row.address}]` : row.address}:${row.port}`,
      status: row.status,
      operation: row.operation,
      step: row.step,
      error: row.error,
      labels: JSON.parse(row.labels) as Record<string, string>,
      facts: row.facts === null ? null : (JSON.parse(row.facts) as Record<string, unknown>),
      agentVersion: row.agent_version,
      startMode: row.start_mode,
      agentOptions: JSON.parse(row.agent_options) as InstalledAgentOptions,
      hostKey: key ? `${key.type} ${key.fingerprint}` : null,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      log: this.logAfter.all(name, logAfter),
    };
  }

  list(): HostResource[] {
    return this.all.all().map((row) => ({ ...(this.resource(row.name) as HostResource), log: [] }));
  }

  /** Hosts whose operation was cut by a coordinator restart: they are failed, and may be run again. */
  failInterrupted(): void {
    for (const row of this.all.all()) {
      if (row.status === "working") {
        this.end(row.name, "failed", row.step, "the coordinator stopped during this operation; run it again");
      }
    }
  }

  pinnedKey(address: string, port: number): PinnedHostKey | null {
    return this.keyOf.get(address, port) ?? null;
  }

  pinKey(address: string, port: number, key: PinnedHostKey): void {
    this.pin.run(address, port, key.type, key.fingerprint, new Date().toISOString());
  }

  unpinKey(address: string, port: number): void {
    this.unpin.run(address, port);
  }
}

function toRecord(row: HostRow): HostRecord {
  return {
    name: row.name,
    user: row.ssh_user,
    address: row.address,
    port: row.port,
    labels: JSON.parse(row.labels) as Record<string, string>,
    status: row.status,
    operation: row.operation,
    startMode: row.start_mode,
    agentVersion: row.agent_version,
    agentOptions: JSON.parse(row.agent_options) as InstalledAgentOptions,
  };
}
