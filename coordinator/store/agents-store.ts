import type { Statement } from "better-sqlite3";
import type { AgentState } from "../../protocol/job-status.ts";
import type { HostFacts } from "../../protocol/messages.ts";
import type { SpokenVersion } from "../../protocol/protocol-version.ts";
import type { AgentResource } from "../../protocol/resources.ts";
import { type DailyWindow, formatWindow } from "../../protocol/windows.ts";
import type { Db } from "./database.ts";
import { cachedPrepare } from "./statement-cache.ts";

interface AgentRow {
  name: string;
  state: AgentState;
  drained: number;
  hostname: string;
  arch: string;
  cores: number;
  memory_bytes: number;
  capacity_bytes: number;
  used_bytes: number;
  labels: string;
  registered_at: string;
  last_heartbeat_at: string;
  blackouts: string;
  version: string | null;
  protocol_version: number;
}

/** What the scheduler needs of an agent. */
export interface AgentCapacity {
  name: string;
  state: AgentState;
  capacityBytes: number;
  labels: Record<string, string>;
  blackouts: DailyWindow[];
}

/** The agents that have registered, with their facts and liveness. */
export class AgentsStore {
  private readonly upsert: Statement;
  private readonly byName: Statement<[string], AgentRow>;
  private readonly all: Statement<[], AgentRow>;
  private readonly touch: Statement;

  /** Statements compiled once, for the methods that prepare theirs where they run them. */
  private readonly sql: Db["prepare"];

  constructor(private readonly db: Db) {
    this.sql = cachedPrepare(db);
    this.upsert = db.prepare(`
      INSERT INTO agents (name, state, hostname, arch, cores, memory_bytes, capacity_bytes, labels, blackouts,
                          registered_at, last_heartbeat_at, version, protocol_version)
      VALUES (@name, CASE WHEN @draining = 1 THEN 'draining' ELSE 'online' END, @hostname, @arch, @cores,
              @memoryBytes, @capacityBytes, @labels, @blackouts, @now, @now, @version, @protocolVersion)
      ON CONFLICT (name) DO UPDATE SET
        state = CASE WHEN agents.drained = 1 OR @draining = 1 THEN 'draining' ELSE 'online' END,
        hostname = @hostname, arch = @arch, cores = @cores, memory_bytes = @memoryBytes,
        capacity_bytes = @capacityBytes, labels = @labels, blackouts = @blackouts, registered_at = @now,
        last_heartbeat_at = @now, version = @version, protocol_version = @protocolVersion`);
    this.byName = db.prepare("SELECT * FROM agents WHERE name = ?");
    this.all = db.prepare("SELECT * FROM agents ORDER BY name");
    // The state follows the admin's drain flag and the agent's own word (it drains while shutting down).
    this.touch = db.prepare(
      `UPDATE agents SET last_heartbeat_at = ?, used_bytes = ?,
         state = CASE WHEN drained = 1 OR ? = 1 THEN 'draining' ELSE 'online' END
       WHERE name = ? AND state != 'lost'`,
    );
  }

  /**
   * `draining`: the agent said it is shutting down (it finishes its jobs and takes no new ones).
   * `version`: what it said it runs (the coordinator took it: agent-versions.ts).
   */
  register(
    name: string,
    facts: HostFacts,
    capacityBytes: number,
    draining = false,
    version: SpokenVersion = { release: null, protocol: 0 },
    now = new Date(),
  ): void {
    this.upsert.run({
      name,
      version: version.release,
      protocolVersion: version.protocol,
      draining: draining ? 1 : 0,
      hostname: facts.hostname,
      arch: facts.arch,
      cores: facts.cores,
      memoryBytes: facts.memoryBytes,
      capacityBytes,
      labels: JSON.stringify(facts.labels),
      blackouts: JSON.stringify(facts.blackouts),
      now: now.toISOString(),
    });
  }

  /** Records a heartbeat; false if the agent is unknown or was declared lost (it must register again). */
  heartbeat(name: string, usedBytes: number, draining = false, now = new Date()): boolean {
    return this.touch.run(now.toISOString(), usedBytes, draining ? 1 : 0, name).changes > 0;
  }

  /** Agents whose last heartbeat is older than `silentSince`: marked lost, and returned. */
  markSilentLost(silentSince: Date): string[] {
    return this.db.transaction(() => {
      const names = this.sql<[string], { name: string }>(
        "SELECT name FROM agents WHERE state != 'lost' AND last_heartbeat_at < ?",
      )
        .all(silentSince.toISOString())
        .map((row) => row.name);
      for (const name of names)
        this.sql("UPDATE agents SET state = 'lost', used_bytes = 0 WHERE name = ?").run(name);
      return names;
    })();
  }

  /** Declares one agent lost at once (nothing answers on its subjects); false if it already was. */
  markLost(name: string): boolean {
    return (
      this.sql("UPDATE agents SET state = 'lost', used_bytes = 0 WHERE name = ? AND state != 'lost'").run(
        name,
      ).changes > 0
    );
  }

  setDrained(name: string, drained: boolean): boolean {
    return (
      this.sql(`UPDATE agents SET drained = ?,
                    state = CASE WHEN state = 'lost' THEN 'lost' WHEN ? = 1 THEN 'draining' ELSE 'online' END
                  WHERE name = ?`).run(drained ? 1 : 0, drained ? 1 : 0, name).changes > 0
    );
  }

  /** Agents not lost, with the version each said at its last registration. */
  liveVersions(): { name: string; version: SpokenVersion }[] {
    return this.sql<[], Pick<AgentRow, "name" | "version" | "protocol_version">>(
      "SELECT name, version, protocol_version FROM agents WHERE state != 'lost' ORDER BY name",
    )
      .all()
      .map((row) => ({ name: row.name, version: { release: row.version, protocol: row.protocol_version } }));
  }

  capacities(): AgentCapacity[] {
    return this.all.all().map((row) => ({
      name: row.name,
      state: row.state,
      capacityBytes: row.capacity_bytes,
      labels: JSON.parse(row.labels) as Record<string, string>,
      blackouts: JSON.parse(row.blackouts) as DailyWindow[],
    }));
  }

  get(name: string, reserved: Map<string, number>, running: Map<string, number[]>): AgentResource | null {
    const row = this.byName.get(name);
    return row ? toAgentResource(row, reserved, running) : null;
  }

  list(reserved: Map<string, number>, running: Map<string, number[]>): AgentResource[] {
    return this.all.all().map((row) => toAgentResource(row, reserved, running));
  }
}

function toAgentResource(
  row: AgentRow,
  reserved: Map<string, number>,
  running: Map<string, number[]>,
): AgentResource {
  return {
    name: row.name,
    state: row.state,
    hostname: row.hostname,
    arch: row.arch,
    cores: row.cores,
    memoryBytes: row.memory_bytes,
    capacityBytes: row.capacity_bytes,
    reservedBytes: reserved.get(row.name) ?? 0,
    usedBytes: row.used_bytes,
    labels: JSON.parse(row.labels) as Record<string, string>,
    registeredAt: row.registered_at,
    lastHeartbeatAt: row.last_heartbeat_at,
    runningJobs: running.get(row.name) ?? [],
    noNewJobs: (JSON.parse(row.blackouts) as DailyWindow[]).map(formatWindow),
    version: row.version,
    protocolVersion: row.protocol_version,
  };
}
