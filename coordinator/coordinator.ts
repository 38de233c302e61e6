import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../protocol/logger.ts";
import { connectNats } from "../protocol/nats-connect.ts";
import { readCredentialsFile } from "../protocol/nats-credentials.ts";
import { applyReport } from "./attempts/apply-report.ts";
import { FarmEvents } from "./attempts/farm-events.ts";
import type { CoordinatorConfig } from "./config.ts";
import { GithubBot } from "./github/github-bot.ts";
import { loadAgentBundle } from "./hosts/agent-bundle.ts";
import { HostOperations } from "./hosts/host-operations.ts";
import { ensureAdminToken } from "./http/admin-token.ts";
import { createApp } from "./http/app.ts";
import { ShutdownGate } from "./http/shutdown-gate.ts";
import { JobService } from "./jobs/job-service.ts";
import { loadSuites } from "./jobs/suites.ts";
import { Dispatcher } from "./nats/agent-link.ts";
import { NatsAuthority } from "./nats/credentials/nats-authority.ts";
import { EmbeddedNats } from "./nats/embedded-nats.ts";
import { HandBacks } from "./nats/hand-backs.ts";
import { ReportStream } from "./nats/report-stream.ts";
import { Scheduler } from "./scheduling/scheduler.ts";
import { openStore, type Store } from "./store/store.ts";

/** The first job a new user runs; printed at start and on the empty jobs page. */
export const EXAMPLE_SUBMIT = 'memfarm submit bigmem-smoke --python "$(command -v python3)" --follow';

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
 * The coordinator process: suites, store, NATS (embedded or given),
 * dispatcher, scheduler and HTTP server, started in that order and stopped
 * in reverse (see CoordinatorLifecycle).
 */
export class Coordinator {
  private lifecycle: CoordinatorLifecycle = "running";
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
      nc: NatsConnection;
      embedded: EmbeddedNats | null;
      dispatcher: Dispatcher;
      reports: ReportStream;
      handBacks: HandBacks;
      scheduler: Scheduler;
      server: Server;
      gate: ShutdownGate;
      hostOperations: HostOperations;
      github: GithubBot | null;
      log: Logger;
    },
  ) {}

  /** The PR bot, when configured. */
  get github(): GithubBot | null {
    return this.parts.github;
  }

  /** Whether the nats-server is ours (embedded): credentials then take effect without an admin. */
  get managesNats(): boolean {
    return this.parts.embedded !== null;
  }

  get state(): CoordinatorLifecycle {
    return this.lifecycle;
  }

  /** The NATS URLs agents should use. */
  get advertisedNats(): string[] {
    return this.config.advertiseNats.length > 0 ? this.config.advertiseNats : this.natsUrls;
  }

  static async start(config: CoordinatorConfig, log: Logger): Promise<Coordinator> {
    const suites = loadSuites(config.jobsDir); // a broken suite file stops the start here
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const store = openStore(join(config.dataDir, "memfarm.sqlite"));
    const cleanups: (() => Promise<void> | void)[] = [() => store.close()];
    try {
      const adminToken = await ensureAdminToken(config.dataDir, store.tokens);
      let embedded: EmbeddedNats | null = null;
      let natsUrls = config.natsServers;
      const ownNats = natsUrls.length === 0;
      // The coordinator's own NKey unless --creds gives other credentials (an external server's).
      const identity = config.natsCredsFile
        ? await givenIdentity(config.natsCredsFile)
        : await NatsAuthority.ensureCoordinatorSeed(config.dataDir);
      const natsAuthority = new NatsAuthority({
        dataDir: config.dataDir,
        store: store.natsCredentials,
        coordinatorKey: identity.publicKey,
        reload: ownNats ? () => (embedded as EmbeddedNats).reload() : null,
        log,
      });
      await natsAuthority.writeAuthorization();
      if (ownNats) {
        embedded = new EmbeddedNats({
          dataDir: join(config.dataDir, "nats"),
          port: config.embeddedNatsPort,
          authorizationFile: natsAuthority.authorizationFile,
          log,
        });
        const started = embedded;
        cleanups.unshift(() => started.stop());
        natsUrls = [await embedded.start()];
      }
      const nc = await connectNats({ servers: natsUrls, credsFile: identity.file }, "memfarm-coordinator", {
        log: log.child({ part: "nats" }),
      });
      cleanups.unshift(() => nc.drain());
      const events = new FarmEvents(log);
      let wake = () => {};
      const dispatcher = new Dispatcher(nc, store, events, log, {
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        headroomFor: (memory) => Math.max(config.headroomBytes, Math.round(memory * 0.05)),
        maxAttempts: config.maxAttempts,
        onCapacityChanged: () => wake(),
      });
      dispatcher.start();
      const handBacks = new HandBacks(nc, store, events, log, () => wake());
      handBacks.start();
      const scheduler = new Scheduler(store, events, log, {
        tickMs: config.schedulerTickMs,
        lostAfterMs: config.lostAfterMs,
        maxAttempts: config.maxAttempts,
        assign: (agent, assignment) => dispatcher.assign(agent, assignment),
      });
      wake = () => scheduler.wake();
      const reports = await ReportStream.start(nc, {
        replicas: config.streamReplicas,
        log,
        apply: (agent, report) => {
          const verdict = applyReport(store, events, log, agent, report);
          if (verdict === "applied" && report.kind === "result") wake();
          return verdict;
        },
      });
      cleanups.unshift(() => reports.stop());
      scheduler.start();
      cleanups.unshift(() => scheduler.stop());
      const jobs = new JobService({
        store,
        events,
        log,
        suites,
        probePython: (agents, python) => dispatcher.probePython(agents, python),
        cancelAttempt: (agent, attemptId) => dispatcher.cancel(agent, attemptId),
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
      let publicUrl = config.github?.publicUrl ?? "";
      const github = config.github
        ? new GithubBot({
            config: config.github,
            store,
            jobs,
            events,
            suiteNames: [...suites.keys()],
            publicUrl: () => publicUrl,
            log: log.child({ part: "github" }),
          })
        : null;
      const gate = new ShutdownGate();
      const app = createApp({
        store,
        jobs,
        events,
        log,
        suiteNames: [...suites.keys()],
        exampleSubmit: EXAMPLE_SUBMIT,
        wakeScheduler: wake,
        natsAuthority,
        hostOperations,
        gate,
        githubWebhook: github?.router ?? null,
      });
      const server = await listen(app, config.host, config.port);
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : config.port;
      const httpUrl = `http://${config.host}:${port}`;
      publicUrl ||= httpUrl;
      if (github) {
        github.start();
        cleanups.unshift(() => github.stop());
      }
      log.info("coordinator ready", { http: httpUrl, nats: natsUrls.join(",") });
      return new Coordinator(config, store, natsUrls, adminToken, httpUrl, natsAuthority, {
        nc,
        embedded,
        dispatcher,
        reports,
        handBacks,
        scheduler,
        server,
        gate,
        hostOperations,
        github,
        log,
      });
    } catch (thrown) {
      for (const cleanup of cleanups) await Promise.resolve(cleanup()).catch(() => undefined);
      throw thrown;
    }
  }

  /** For a forced exit: kills the embedded nats-server at once. */
  forceStop(): void {
    this.parts.log.warn("forced stop", { state: this.lifecycle });
    this.parts.embedded?.kill();
    this.lifecycle = "stopped";
  }

  /** Shuts down in steps (see CoordinatorLifecycle); a second call waits for the first. */
  stop(): Promise<void> {
    this.stopping ??= this.stopInSteps();
    return this.stopping;
  }

  private async stopInSteps(): Promise<void> {
    const {
      server,
      gate,
      scheduler,
      dispatcher,
      reports,
      handBacks,
      nc,
      embedded,
      hostOperations,
      github,
      log,
    } = this.parts;
    this.lifecycle = "stopping";
    log.info("stopping: refusing new work (HTTP 503), finishing the scheduling pass");
    gate.close();
    await scheduler.stop();

    this.lifecycle = "draining";
    log.info("draining: answering requests in flight", { requests: gate.requestsInFlight });
    if (!(await gate.drained(HTTP_DRAIN_DEADLINE_MS))) {
      log.warn("requests still in flight at the deadline are cut", { requests: gate.requestsInFlight });
    }
    // A host operation in flight ends at its next step's deadline; one cut short is failed at the next start.
    await Promise.race([
      hostOperations.idle(),
      new Promise((resolve) => setTimeout(resolve, HTTP_DRAIN_DEADLINE_MS).unref()),
    ]);
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections(); // live event streams would otherwise hold the server open
    await closed;
    // No webhook arrives any more: finish the events being handled and the GitHub calls in flight.
    await github?.stop();
    // Reports not yet acknowledged stay in the stream for the next coordinator.
    log.info("draining: finishing the report being applied");
    await reports.stop();
    dispatcher.stop();
    handBacks.stop();
    await nc.drain().catch(() => undefined);
    await embedded?.stop();
    this.store.close();
    this.lifecycle = "stopped";
    log.info("coordinator stopped");
  }
}

/** The coordinator's user from its --creds file: its key if that is an NKey seed (not for a JWT). */
async function givenIdentity(credsFile: string): Promise<{ file: string; publicKey: string | null }> {
  const credentials = await readCredentialsFile(credsFile);
  return { file: credsFile, publicKey: credentials.kind === "nkey" ? credentials.publicKey : null };
}

function listen(app: ReturnType<typeof createApp>, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once("listening", () => resolve(server));
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`port ${port} on ${host} is in use; pick another with --port`)
          : error,
      );
    });
  });
}
