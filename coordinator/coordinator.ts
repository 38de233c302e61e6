import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../protocol/logger.ts";
import { connectNats } from "../protocol/nats-connect.ts";
import { readCredentialsFile } from "../protocol/nats-credentials.ts";
import { ensureAdminToken } from "./admin-token.ts";
import type { CoordinatorConfig } from "./config.ts";
import { Dispatcher } from "./dispatcher.ts";
import { EmbeddedNats } from "./embedded-nats.ts";
import { FarmEvents } from "./events.ts";
import { createApp } from "./http/app.ts";
import { JobService } from "./job-service.ts";
import { NatsAuthority } from "./nats-auth/nats-authority.ts";
import { ReportStream } from "./report-stream.ts";
import { applyReport } from "./reports.ts";
import { Scheduler } from "./scheduler.ts";
import { openStore, type Store } from "./store/store.ts";
import { loadSuites } from "./suites.ts";

/** The first job a new user runs; printed at start and on the empty jobs page. */
export const EXAMPLE_SUBMIT = 'memfarm submit bigmem-smoke --python "$(command -v python3)" --follow';

/**
 * The coordinator process: suites, store, NATS (embedded or given),
 * dispatcher, scheduler and HTTP server, started in that order and stopped
 * in reverse: stop taking requests, stop scheduling, drain NATS, close the store.
 */
export class Coordinator {
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
      scheduler: Scheduler;
      server: Server;
    },
  ) {}

  /** Whether the nats-server is ours (embedded): credentials then take effect without an admin. */
  get managesNats(): boolean {
    return this.parts.embedded !== null;
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
      const app = createApp({
        store,
        jobs,
        events,
        log,
        suiteNames: [...suites.keys()],
        exampleSubmit: EXAMPLE_SUBMIT,
        wakeScheduler: wake,
        natsAuthority,
      });
      const server = await listen(app, config.host, config.port);
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : config.port;
      const httpUrl = `http://${config.host}:${port}`;
      log.info("coordinator ready", { http: httpUrl, nats: natsUrls.join(",") });
      return new Coordinator(config, store, natsUrls, adminToken, httpUrl, natsAuthority, {
        nc,
        embedded,
        dispatcher,
        reports,
        scheduler,
        server,
      });
    } catch (thrown) {
      for (const cleanup of cleanups) await Promise.resolve(cleanup()).catch(() => undefined);
      throw thrown;
    }
  }

  /** For a forced exit: kills the embedded nats-server at once. */
  forceStop(): void {
    this.parts.embedded?.kill();
  }

  async stop(): Promise<void> {
    const { server, scheduler, dispatcher, reports, nc, embedded } = this.parts;
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections(); // live event streams would otherwise hold the server open
    await closed;
    await scheduler.stop();
    await reports.stop();
    dispatcher.stop();
    await nc.drain().catch(() => undefined);
    await embedded?.stop();
    this.store.close();
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
