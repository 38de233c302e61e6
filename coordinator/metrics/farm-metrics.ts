import { stat } from "node:fs/promises";
import type { RequestHandler } from "express";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { isFinalStatus } from "../../protocol/job-status.ts";
import type { AgentSelfFigures } from "../../protocol/messages.ts";
import { releaseText } from "../../protocol/protocol-version.ts";
import type { AgentResource } from "../../protocol/resources.ts";
import type { FarmEvents } from "../attempts/farm-events.ts";
import { listAgents } from "../http/api-routes.ts";
import type { RetentionPass } from "../retention/retention.ts";
import type { Store } from "../store/store.ts";
import type { AgentFigures } from "./agent-figures.ts";
import { watchJobTimings } from "./job-timings.ts";

export interface FarmMetricsDeps {
  store: Store;
  events: FarmEvents;
  /** The SQLite file (its -wal beside it counts too). */
  databaseFile: string;
  /** What each agent's heartbeats say of the agent process itself. */
  agentFigures: AgentFigures;
  /** Whether the coordinator's own NATS connection is up now. */
  natsConnected: () => boolean;
  /** Reports in the stream not yet applied; null when NATS cannot tell now. */
  reportBacklog: () => Promise<number | null>;
}

export interface FarmMetrics {
  /** The scrape's body: the store read once, then every metric. */
  render(): Promise<string>;
  contentType: string;
  /** Times each HTTP request, labelled by its route's pattern (never the raw path: ids would explode the labels). */
  httpTimer: RequestHandler;
  /** Counts a nightly backup, good or failed. */
  recordBackup(outcome: "ok" | "failed", at: Date): void;
  /** Counts what a retention pass did. */
  recordRetention(pass: RetentionPass): void;
  stop(): void;
}

const AGENT_STATES = ["online", "draining", "lost"] as const;

/**
 * The coordinator's Prometheus metrics (prom-client): the queue and outcomes from the store, each
 * agent's memory and state, the report backlog, NATS and SQLite, HTTP request durations, job
 * timings from the farm's events, and the process's own figures. Store-backed gauges are read at
 * scrape time, so they are true after a restart; docs/operations/metrics.md lists every name.
 */
export function createFarmMetrics(deps: FarmMetricsDeps): FarmMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "memfarm_coordinator_" });
  const { store } = deps;
  // What the gauges read from the store, read once per scrape by render() rather than once per gauge.
  let scraped: { jobs: ReturnType<Store["jobs"]["countByStatusSuiteAndPriority"]>; agents: AgentResource[] } =
    {
      jobs: [],
      agents: [],
    };

  new Gauge({
    name: "memfarm_jobs_queued",
    help: "Jobs waiting to start (queued, held ones included), by suite and priority.",
    labelNames: ["suite", "priority"],
    registers: [registry],
    collect() {
      this.reset();
      for (const row of scraped.jobs)
        if (row.status === "queued") this.inc({ suite: row.suite, priority: row.priority }, row.n);
    },
  });
  new Gauge({
    name: "memfarm_jobs",
    help: "Jobs in the store by status and suite.",
    labelNames: ["status", "suite"],
    registers: [registry],
    collect() {
      this.reset();
      for (const row of scraped.jobs) this.inc({ status: row.status, suite: row.suite }, row.n);
    },
  });
  // A total from the store, so a restart does not reset it; it only falls if jobs are deleted.
  new Gauge({
    name: "memfarm_jobs_finished_total",
    help: "Jobs that have finished, by suite and outcome (from the store: survives restarts).",
    labelNames: ["suite", "outcome"],
    registers: [registry],
    collect() {
      this.reset();
      for (const row of scraped.jobs)
        if (isFinalStatus(row.status)) this.inc({ suite: row.suite, outcome: row.status }, row.n);
    },
  });

  /** One value per agent; an agent whose value is null (no heartbeat figures yet) has no sample. */
  const agentGauge = (name: string, help: string, value: (agent: AgentResource) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ["agent"],
      registers: [registry],
      collect() {
        this.reset();
        for (const agent of scraped.agents) {
          const figure = value(agent);
          if (figure !== null) this.set({ agent: agent.name }, figure);
        }
      },
    });
  agentGauge(
    "memfarm_agent_capacity_bytes",
    "Memory each agent offers to jobs.",
    (agent) => agent.capacityBytes,
  );
  agentGauge(
    "memfarm_agent_reserved_bytes",
    "Memory reserved by the jobs on each agent.",
    (agent) => agent.reservedBytes,
  );
  agentGauge(
    "memfarm_agent_used_bytes",
    "Memory the jobs on each agent use now.",
    (agent) => agent.usedBytes,
  );
  agentGauge(
    "memfarm_agent_running_jobs",
    "Jobs running on each agent.",
    (agent) => agent.runningJobs.length,
  );
  agentGauge("memfarm_agent_heartbeat_age_seconds", "Seconds since each agent's last heartbeat.", (agent) =>
    Math.max(0, (Date.now() - Date.parse(agent.lastHeartbeatAt)) / 1000),
  );
  const selfGauge = (name: string, help: string, value: (figures: AgentSelfFigures) => number) =>
    agentGauge(name, help, (agent) => {
      const figures = deps.agentFigures.of(agent.name);
      return figures === null ? null : value(figures);
    });
  // Totals since each agent process started, as its heartbeats report them: rate() them.
  selfGauge(
    "memfarm_agent_process_cpu_seconds_total",
    "CPU time of each agent process since it started (user + system).",
    (figures) => figures.cpuMicros / 1e6,
  );
  selfGauge(
    "memfarm_agent_sampler_cpu_seconds_total",
    "Of each agent's CPU time, the time spent sampling its jobs' process trees.",
    (figures) => figures.samplerCpuMicros / 1e6,
  );
  selfGauge(
    "memfarm_agent_process_resident_bytes",
    "Resident memory of each agent process.",
    (figures) => figures.residentBytes,
  );
  new Gauge({
    name: "memfarm_agent_state",
    help: "1 for each agent's current state (online, draining, lost), 0 for the others.",
    labelNames: ["agent", "state"],
    registers: [registry],
    collect() {
      this.reset();
      for (const agent of scraped.agents)
        for (const state of AGENT_STATES)
          this.set({ agent: agent.name, state }, agent.state === state ? 1 : 0);
    },
  });

  new Gauge({
    name: "memfarm_agent_version_info",
    help: "1 per agent, labelled with the memfarm release (pre-0.1.0: from before versions) and protocol it registered with.",
    labelNames: ["agent", "version", "protocol"],
    registers: [registry],
    collect() {
      this.reset();
      for (const agent of scraped.agents)
        this.set(
          { agent: agent.name, version: releaseText(agent.version), protocol: String(agent.protocolVersion) },
          1,
        );
    },
  });

  new Gauge({
    name: "memfarm_agents",
    help: "Agents by state.",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const { agents } = scraped;
      for (const state of AGENT_STATES)
        this.set({ state }, agents.filter((agent) => agent.state === state).length);
    },
  });
  new Gauge({
    name: "memfarm_report_stream_backlog",
    help: "Agents' reports in the JetStream stream not yet applied (the consumer's pending and unacknowledged).",
    registers: [registry],
    async collect() {
      const backlog = await deps.reportBacklog();
      if (backlog === null) this.reset();
      else this.set(backlog);
    },
  });
  new Gauge({
    name: "memfarm_nats_connected",
    help: "1 while the coordinator's NATS connection is up.",
    registers: [registry],
    collect() {
      this.set(deps.natsConnected() ? 1 : 0);
    },
  });
  new Gauge({
    name: "memfarm_database_size_bytes",
    help: "The SQLite database's size on disk, its write-ahead log included.",
    registers: [registry],
    async collect() {
      const size = async (file: string) => (await stat(file).catch(() => null))?.size ?? 0;
      this.set((await size(deps.databaseFile)) + (await size(`${deps.databaseFile}-wal`)));
    },
  });

  const http = new Histogram({
    name: "memfarm_http_request_duration_seconds",
    help: "HTTP request durations by method, route pattern and status class.",
    labelNames: ["method", "route", "status"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const httpTimer: RequestHandler = (req, res, next) => {
    const end = http.startTimer();
    res.once("finish", () => {
      // Express knows the pattern only once a route matched; the rest (static files, 404s) is one label each.
      const pattern =
        (req.route?.path as string | undefined) ?? (res.statusCode === 404 ? "unmatched" : "other");
      // A router's mount path (req.baseUrl) is gone again once an error left the router: the API's is put back.
      const mount = req.baseUrl || (req.route && req.originalUrl.startsWith("/api/v1/") ? "/api/v1" : "");
      end({
        method: req.method,
        route: `${mount}${pattern}`,
        status: `${Math.floor(res.statusCode / 100)}xx`,
      });
    });
    next();
  };

  const backups = new Counter({
    name: "memfarm_backups_total",
    help: "Nightly backups taken since the coordinator started, by outcome (ok, failed).",
    labelNames: ["outcome"],
    registers: [registry],
  });
  for (const outcome of ["ok", "failed"]) backups.inc({ outcome }, 0); // both series exist from the start
  const lastBackup = new Gauge({
    name: "memfarm_backup_last_success_timestamp_seconds",
    help: "When the last good nightly backup was taken (Unix time); absent until one is: alert on its age.",
    registers: [registry],
  });
  const foldedJobs = new Counter({
    name: "memfarm_retention_sample_jobs_folded_total",
    help: "Jobs whose raw samples retention folded into per-minute summaries.",
    registers: [registry],
  });
  const deletedRows = new Counter({
    name: "memfarm_retention_rows_deleted_total",
    help: "Rows retention deleted, by table (samples, log_lines).",
    labelNames: ["table"],
    registers: [registry],
  });
  const archivedLogs = new Counter({
    name: "memfarm_retention_logs_total",
    help: "Job logs retention archived, by action (compressed, dropped).",
    labelNames: ["action"],
    registers: [registry],
  });

  const stopTimings = watchJobTimings(registry, deps.events);
  return {
    async render() {
      scraped = { jobs: store.jobs.countByStatusSuiteAndPriority(), agents: listAgents(store) };
      return registry.metrics();
    },
    contentType: registry.contentType,
    httpTimer,
    recordBackup(outcome, at) {
      backups.inc({ outcome });
      if (outcome === "ok") lastBackup.set(at.getTime() / 1000);
    },
    recordRetention(pass) {
      foldedJobs.inc(pass.samplesFolded);
      deletedRows.inc({ table: "samples" }, pass.sampleRowsDeleted);
      deletedRows.inc({ table: "log_lines" }, pass.logLinesDeleted);
      archivedLogs.inc({ action: "compressed" }, pass.logsCompressed);
      archivedLogs.inc({ action: "dropped" }, pass.logsDropped);
    },
    stop: stopTimings,
  };
}
