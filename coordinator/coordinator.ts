import { mkdir } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { MemfarmError } from "../protocol/errors.ts";
import { Lifecycle } from "../protocol/lifecycle.ts";
import type { Logger } from "../protocol/logger.ts";
import { connectNats } from "../protocol/nats-connect.ts";
import { readCredentialsFile } from "../protocol/nats-credentials.ts";
import { Releasers } from "../protocol/releasers.ts";
import { applyReport } from "./attempts/apply-report.ts";
import { FarmEvents } from "./attempts/farm-events.ts";
import { Transitions } from "./attempts/transitions.ts";
import { ensureBackupDir, NightlyBackups } from "./backups/nightly-backups.ts";
import type { CoordinatorConfig } from "./config.ts";
import { DataDirLock } from "./data-dir-lock.ts";
import { GithubBot } from "./github/github-bot.ts";
import { isGithubRepo } from "./github/push-event.ts";
import { loadAgentBundle } from "./hosts/agent-bundle.ts";
import { HostOperations } from "./hosts/host-operations.ts";
import { ensureAdminToken } from "./http/admin-token.ts";
import { createApp } from "./http/app.ts";
import { ShutdownGate } from "./http/shutdown-gate.ts";
import { JobService } from "./jobs/job-service.ts";
import { loadSuites } from "./jobs/suites.ts";
import { AgentFigures } from "./metrics/agent-figures.ts";
import { createFarmMetrics } from "./metrics/farm-metrics.ts";
import { AgentLink } from "./nats/agent-link.ts";
import { ConnectionHealth } from "./nats/connection-health.ts";
import { NatsAuthority, natsAuthPaths } from "./nats/credentials/nats-authority.ts";
import { EmbeddedNats } from "./nats/embedded-nats.ts";
import { HandBacks } from "./nats/hand-backs.ts";
import { ReportStream } from "./nats/report-stream.ts";
import { Retention } from "./retention/retention.ts";
import { Scheduler } from "./scheduling/scheduler.ts";
import { StorageHealth } from "./store/storage-health.ts";
import { openStore, type Store } from "./store/store.ts";
import { Bisector } from "./watches/bisector.ts";
import { CommitRanges } from "./watches/commit-range.ts";
import { RegressionFinder } from "./watches/regressions.ts";
import { WatchService } from "./watches/watch-service.ts";

/** The first job a new user runs, after the CLI's name; printed at start and on the empty jobs page. */
export const EXAMPLE_SUBMIT_ARGS = 'submit bigmem-smoke --python "$(command -v python3)" --follow';
export const EXAMPLE_SUBMIT = `memfarm ${EXAMPLE_SUBMIT_ARGS}`;

/** How long stop() waits for HTTP requests in flight (a submit may wait on agents' interpreter checks). */
const HTTP_DRAIN_DEADLINE_MS = 30_000;

/**
 * Lifecycle, set only by stop() and forceStop():
 *
 *   RUNNING → STOPPING → DRAINING → STOPPED
 *
 * - STOPPING: calls that change the farm get 503 `shutting_down` (reads and
 *   /healthz answer, the latter 503 so a load balancer moves on); the
 *   scheduler places nothing more and its pass in flight finishes.
 * - DRAINING: HTTP requests already in flight are answered (bounded), the
 *   server closes (event streams are cut), then NATS drains: messages agents
 *   already sent are handled.
 * - STOPPED: the embedded nats-server is stopped and the store closed.
 *
 * Jobs on agents are not touched: the agents keep running them and deliver
 * their results when a coordinator is back. forceStop() (a second signal)
 * kills the embedded nats-server at once.
 */
export type CoordinatorLifecycle = "running" | "stopping" | "draining" | "stopped";

/**
 * The coordinator process: suites, store, NATS (embedded or given), the agent link, the
 * scheduler and the HTTP server, started in that order; every start adds its releaser, and
 * stop() (or a start that fails half-way) runs them in reverse (see CoordinatorLifecycle).
 */
export class Coordinator {
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly config: CoordinatorConfig,
    readonly store: Store,
    readonly natsUrls: string[],
    readonly adminToken: string,
    readonly httpUrl: string,
    /** Issues and revokes agents' NATS credentials. */
    readonly natsAuthority: NatsAuthority,
    private readonly parts: {
      embedded: EmbeddedNats | null;
      github: GithubBot | null;
      backups: NightlyBackups | null;
      retention: Retention;
      releasers: Releasers;
      lifecycle: Lifecycle<CoordinatorLifecycle>;
      log: Logger;
    },
  ) {}

  /** The PR bot, when configured. */
  get github(): GithubBot | null {
    return this.parts.github;
  }

  /** The nightly backups, when --backup-dir is given (runNow() takes one at once). */
  get backups(): NightlyBackups | null {
    return this.parts.backups;
  }

  /** Folding old samples and archiving old logs (runOnce() runs a pass at once). */
  get retention(): Retention {
    return this.parts.retention;
  }

  /** Whether the nats-server is ours (embedded): credentials then take effect without an admin. */
  get managesNats(): boolean {
    return this.parts.embedded !== null;
  }

  get state(): CoordinatorLifecycle {
    return this.parts.lifecycle.state;
  }

  /** The NATS URLs agents should use. */
  get advertisedNats(): string[] {
    return this.config.advertiseNats.length > 0 ? this.config.advertiseNats : this.natsUrls;
  }

  static async start(config: CoordinatorConfig, log: Logger): Promise<Coordinator> {
    const suites = loadSuites(config.jobsDir); // a broken suite file stops the start here
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    if (config.backups) await ensureBackupDir(config.backups.dir); // a folder it cannot write fails the start
    const lifecycle = new Lifecycle<CoordinatorLifecycle>("running", "coordinator", log);
    const releasers = new Releasers();
    const lock = DataDirLock.acquire(config.dataDir, log); // before anything that touches the dir
    releasers.add("data dir lock", () => lock.release());
    // The port is bound first, before NATS or anything else starts: a taken port fails the start at
    // once with nothing to undo. Bound before the app exists, so the PR bot knows the farm's URL.
    const server = await listen(config.host, config.port).catch((error: unknown) => {
      lock.release();
      throw error;
    });
    // For a start that fails before the app is attached; a shutdown has closed it already, draining
    // first (the "HTTP requests" releaser below), and a second close() does nothing.
    releasers.add("HTTP server", () => server.close());
    const databaseFile = join(config.dataDir, "memfarm.sqlite");
    const store = openStore(databaseFile);
    releasers.add("store", () => store.close());
    const storage = new StorageHealth(store.db, databaseFile, log);
    storage.start();
    releasers.add("storage probe", () => storage.stop());
    try {
      const adminToken = await ensureAdminToken(config.dataDir, store.tokens);
      const ownNats = config.natsServers.length === 0;
      // The coordinator's own NKey unless --creds gives other credentials (an external server's).
      const identity = config.natsCredsFile
        ? await givenIdentity(config.natsCredsFile)
        : await NatsAuthority.ensureCoordinatorSeed(config.dataDir);
      const embedded = ownNats
        ? new EmbeddedNats({
            dataDir: join(config.dataDir, "nats"),
            port: config.embeddedNatsPort,
            host: config.embeddedNatsHost,
            authorizationFile: natsAuthPaths(config.dataDir).authorizationFile,
            log,
          })
        : null;
      const natsAuthority = new NatsAuthority({
        dataDir: config.dataDir,
        store: store.natsCredentials,
        coordinatorKey: identity.publicKey,
        reload: embedded ? () => embedded.reload() : null,
        log,
      });
      await natsAuthority.writeAuthorization();
      let natsUrls = config.natsServers;
      if (embedded) {
        releasers.add("embedded nats-server", () => embedded.stop());
        natsUrls = [await embedded.start()];
      }
      const nc = await connectNats({ servers: natsUrls, credsFile: identity.file }, "memfarm-coordinator", {
        log: log.child({ part: "nats" }),
      });
      releasers.add("NATS connection", () => nc.drain().catch(() => undefined));
      const connection = new ConnectionHealth(nc);

      const events = new FarmEvents(log);
      const agentFigures = new AgentFigures();
      const transitions = new Transitions(store, events, log);
      const scheduler = new Scheduler(store, transitions, log, {
        tickMs: config.schedulerTickMs,
        lostAfterMs: config.lostAfterMs,
        maxAttempts: config.maxAttempts,
      });
      const wake = () => scheduler.wake();
      const agentLink = new AgentLink(nc, store, transitions, log, {
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        headroomFor: (memory) => Math.max(config.headroomBytes, Math.round(memory * 0.05)),
        maxAttempts: config.maxAttempts,
        onCapacityChanged: wake,
        onAgentFigures: (agent, figures) => agentFigures.record(agent, figures),
        version: config.version,
      });
      agentLink.start();
      releasers.add("agent link", () => agentLink.stop());
      const handBacks = new HandBacks(nc, store.jobs, transitions, log, wake);
      handBacks.start();
      releasers.add("hand-backs", () => handBacks.stop());
      const reports = await ReportStream.start(nc, {
        replicas: config.streamReplicas,
        log,
        apply: (agent, report, acceptGap) => {
          let verdict: ReturnType<typeof applyReport>;
          try {
            verdict = applyReport(store.jobs, transitions, log, agent, report, acceptGap);
          } catch (thrown) {
            // Not acknowledged: the report waits in the stream until the store can be written.
            if (storage.failed(thrown)) throw storage.unavailable();
            throw thrown;
          }
          if (verdict === "applied") storage.succeeded();
          if (verdict === "applied" && report.kind === "result") wake();
          return verdict;
        },
      });
      // Reports not yet acknowledged stay in the stream for the next coordinator.
      releasers.add("report stream", () => {
        log.info("draining: finishing the report being applied");
        return reports.stop();
      });
      scheduler.start((agent, assignment) => agentLink.assign(agent, assignment));
      releasers.add("scheduler", () => scheduler.stop());

      const jobs = new JobService({
        store,
        transitions,
        log,
        suites,
        probePython: (agents, python) => agentLink.probePython(agents, python),
        cancelAttempt: (agent, attemptId) => agentLink.cancel(agent, attemptId),
        wakeScheduler: wake,
      });
      store.hosts.failInterrupted();
      const hostOperations = new HostOperations({
        store,
        natsAuthority,
        advertisedNats: () => (config.advertiseNats.length > 0 ? config.advertiseNats : natsUrls),
        loadBundle: () => loadAgentBundle(),
        wakeScheduler: wake,
        log,
      });
      const watches = new WatchService({
        store,
        jobs,
        transitions,
        suites,
        log: log.child({ part: "watches" }),
      });
      watches.start();
      releasers.add("watches", () => watches.stop());
      // The PR bot starts later (it needs the HTTP address); a culprit found before then tells no one.
      let announceCulprit: GithubBot["announceCulprit"] | null = null;
      const bisector = new Bisector({
        store,
        jobs,
        events,
        ranges: new CommitRanges(join(config.dataDir, "mirrors")),
        log: log.child({ part: "bisection" }),
        announceCulprit: (regression, bisection) =>
          announceCulprit ? announceCulprit(regression, bisection) : Promise.resolve(null),
      });
      bisector.start();
      releasers.add("bisector", () => bisector.stop());
      const regressions = new RegressionFinder(store, events, log.child({ part: "regressions" }), (opened) =>
        bisector.begin(opened),
      );
      regressions.start();
      releasers.add("regression finder", () => regressions.stop());
      const httpUrl = urlOf(server, config.host, config.port);
      lock.setUrl(httpUrl);
      const github = config.github
        ? new GithubBot({
            config: config.github,
            store,
            jobs,
            events,
            suiteNames: [...suites.keys()],
            publicUrl: () => config.github?.publicUrl || httpUrl,
            onPush: (repository, branch) => {
              for (const name of watches.watchesOf((repo) => isGithubRepo(repo, repository), branch)) {
                watches.checkNow(name).catch(() => undefined); // removed meanwhile
              }
            },
            log: log.child({ part: "github" }),
          })
        : null;
      if (github) {
        announceCulprit = (regression, bisection) => github.announceCulprit(regression, bisection);
        github.start();
        // No webhook arrives any more: finish the events being handled and the GitHub calls in flight.
        releasers.add("PR bot", () => github.stop());
      }
      const metrics = createFarmMetrics({
        store,
        events,
        databaseFile,
        agentFigures,
        natsConnected: () => connection.connected,
        reportBacklog: () => reports.backlog(),
      });
      releasers.add("metrics", () => metrics.stop());
      const retention = new Retention({
        store,
        config: config.retention,
        log: log.child({ part: "retention" }),
        onPass: (pass) => metrics.recordRetention(pass),
      });
      retention.start();
      releasers.add("retention", () => retention.stop());
      const backups = config.backups
        ? new NightlyBackups({
            databaseFile,
            schedule: config.backups,
            log: log.child({ part: "backups" }),
            onOutcome: (outcome, at) => metrics.recordBackup(outcome.ok ? "ok" : "failed", at),
          })
        : null;
      if (backups) {
        backups.start();
        releasers.add("nightly backups", () => backups.stop());
        log.info("nightly backups on", {
          dir: config.backups?.dir,
          keep: config.backups?.keep,
          next: backups.nextAt.toISOString(),
        });
      }
      const gate = new ShutdownGate();
      const app = createApp({
        version: config.version,
        metrics,
        store,
        jobs,
        events,
        log,
        suiteNames: [...suites.keys()],
        exampleSubmit: EXAMPLE_SUBMIT,
        wakeScheduler: wake,
        natsAuthority,
        hostOperations,
        watches,
        gate,
        githubWebhook: github?.router ?? null,
        storage,
        healthChecks: () => ({
          storage: storage.problem ? { ok: false, detail: storage.problem.message } : { ok: true },
          nats: embedded ? embeddedCheck(embedded, connection) : connection.check,
        }),
      });
      server.off("request", answerStarting);
      server.on("request", app);
      releasers.add("HTTP requests", async () => {
        lifecycle.set("stopping", "stopping: refusing new work (HTTP 503), finishing the scheduling pass");
        gate.close();
        await scheduler.stop();
        lifecycle.set("draining", "draining: answering requests in flight", {
          requests: gate.requestsInFlight,
        });
        await drainHttp(server, gate, hostOperations, log);
      });
      log.info("coordinator ready", {
        http: httpUrl,
        nats: natsUrls.join(","),
        version: config.version.release,
        protocolVersion: config.version.protocol,
      });
      return new Coordinator(config, store, natsUrls, adminToken, httpUrl, natsAuthority, {
        embedded,
        github,
        backups,
        retention,
        releasers,
        lifecycle,
        log,
      });
    } catch (thrown) {
      await releasers.releaseAll();
      throw thrown;
    }
  }

  /** For a forced exit: kills the embedded nats-server at once. */
  forceStop(): void {
    this.parts.log.warn("forced stop", { state: this.state });
    this.parts.embedded?.kill();
    this.parts.lifecycle.set("stopped", "coordinator stopped (forced)");
  }

  /** Shuts down in steps (see CoordinatorLifecycle); a second call waits for the first. */
  stop(): Promise<void> {
    this.stopping ??= this.releaseAll();
    return this.stopping;
  }

  private async releaseAll(): Promise<void> {
    const { releasers, lifecycle, log } = this.parts;
    await releasers.releaseAll((step, thrown) =>
      log.warn("a shutdown step failed", { step, error: String(thrown) }),
    );
    lifecycle.set("stopped", "coordinator stopped");
  }
}

/**
 * Answers the HTTP requests in flight (bounded), waits for a host operation in flight (it ends at
 * its next step's deadline; one cut short is failed at the next start), then closes the server,
 * cutting live event streams.
 */
async function drainHttp(server: Server, gate: ShutdownGate, hostOperations: HostOperations, log: Logger) {
  if (!(await gate.drained(HTTP_DRAIN_DEADLINE_MS))) {
    log.warn("requests still in flight at the deadline are cut", { requests: gate.requestsInFlight });
  }
  await Promise.race([
    hostOperations.idle(),
    new Promise((resolve) => setTimeout(resolve, HTTP_DRAIN_DEADLINE_MS).unref()),
  ]);
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections(); // live event streams would otherwise hold the server open
  await closed;
}

/** The embedded server's own state first: while it restarts, the connection is down because of it. */
function embeddedCheck(embedded: EmbeddedNats, connection: ConnectionHealth) {
  const server = embedded.health;
  if (!server.ok) return server;
  return connection.check.ok ? server : { ok: false, detail: connection.check.detail };
}

/** The coordinator's user from its --creds file: its key if that is an NKey seed (not for a JWT). */
async function givenIdentity(credsFile: string): Promise<{ file: string; publicKey: string | null }> {
  const credentials = await readCredentialsFile(credsFile);
  return { file: credsFile, publicKey: credentials.kind === "nkey" ? credentials.publicKey : null };
}

/**
 * What a request gets while the coordinator starts (the port is bound first, NATS and the store
 * come after): a 503 it can retry, not a connection left open with no answer, which a client
 * without a timeout (a health check, a script) would wait on for ever.
 */
function answerStarting(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(503, { "content-type": "application/json", "retry-after": "2", connection: "close" });
  res.end(
    JSON.stringify({
      error: { code: "starting", message: "the coordinator is starting; try again in a few seconds" },
    }),
  );
}

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(answerStarting);
    server.once("listening", () => resolve(server));
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new MemfarmError("port_in_use", `port ${port} on ${host} is in use; pick another with --port`)
          : error,
      );
    });
    server.listen(port, host);
  });
}

/**
 * The URL this machine's CLI, the printed commands and the profile use: a wildcard listen address
 * (0.0.0.0, ::) is reached through loopback, and an IPv6 address goes in brackets.
 */
export function urlOf(server: Server, host: string, port: number): string {
  const address = server.address();
  const boundPort = typeof address === "object" && address ? address.port : port;
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" || host === "[::]" ? "::1" : host;
  const inUrl = reachable.includes(":") && !reachable.startsWith("[") ? `[${reachable}]` : reachable;
  return `http://${inUrl}:${boundPort}`;
}
