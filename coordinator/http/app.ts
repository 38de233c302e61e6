import { join } from "node:path";
import express, { type Router } from "express";
import type { Logger } from "../../protocol/logger.ts";
import type { SpokenVersion } from "../../protocol/protocol-version.ts";
import type { FarmEvents } from "../attempts/farm-events.ts";
import type { HostOperations } from "../hosts/host-operations.ts";
import type { JobService } from "../jobs/job-service.ts";
import type { FarmMetrics } from "../metrics/farm-metrics.ts";
import type { NatsAuthority } from "../nats/credentials/nats-authority.ts";
import { VIEWS_DIR } from "../paths.ts";
import type { StorageHealth } from "../store/storage-health.ts";
import type { Store } from "../store/store.ts";
import type { WatchService } from "../watches/watch-service.ts";
import { apiRoutes } from "./api-routes.ts";
import { dashboardRoutes } from "./dashboard-routes.ts";
import { errorMiddleware } from "./handler.ts";
import { type HealthChecks, healthRoute } from "./health-route.ts";
import { jsonBody } from "./json-body.ts";
import { metricsRoute } from "./metrics-route.ts";
import { requestContext } from "./request-context.ts";
import { serverTiming } from "./server-timing.ts";
import type { ShutdownGate } from "./shutdown-gate.ts";

export interface AppDeps {
  store: Store;
  jobs: JobService;
  events: FarmEvents;
  log: Logger;
  suiteNames: string[];
  exampleSubmit: string;
  wakeScheduler: () => void;
  natsAuthority: NatsAuthority;
  hostOperations: HostOperations;
  watches: WatchService;
  /** Refuses work once the coordinator stops, and tells when requests in flight are answered. */
  gate: ShutdownGate;
  /** The PR bot's webhook route, when the bot is configured. */
  githubWebhook?: Router | null;
  /** The parts /healthz reports on (the database, NATS). */
  healthChecks?: HealthChecks;
  /** Whether the database can be written; a write that finds it cannot gets 503. */
  storage?: StorageHealth;
  /** What GET /metrics serves, and the timer of every HTTP request. */
  metrics: FarmMetrics;
  /** The coordinator's release and protocol, as it says them to agents (tests may pretend). */
  version?: SpokenVersion;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(serverTiming());
  app.use(requestContext(deps.log));
  app.use(deps.metrics.httpTimer);
  app.set("view engine", "ejs");
  app.set("views", VIEWS_DIR);
  app.use("/static", express.static(join(VIEWS_DIR, "static"), { maxAge: "1h" }));
  // Browsers and feed readers ask for /favicon.ico whatever the page links: point them at the SVG.
  app.get("/favicon.ico", (_req, res) => {
    res.set("cache-control", "public, max-age=86400").redirect(301, "/static/favicon.svg");
  });
  app.use(deps.gate.middleware);
  // Healthy means "send me work": a stopping coordinator, or one that cannot write, says no.
  const healthz = healthRoute(deps.gate, deps.healthChecks ?? (() => ({})));
  app.get("/healthz", healthz);
  app.get("/api/v1/healthz", healthz);
  app.get("/metrics", metricsRoute(deps.metrics));
  // Before the JSON parser: the webhook's signature is over the raw bytes, and it has its own size limit.
  if (deps.githubWebhook) app.use("/api/v1/github/webhook", deps.githubWebhook);
  app.use("/api/v1", ...jsonBody(), apiRoutes(deps));
  app.use("/api/v1", (_req, res) => {
    res.status(404).json({
      error: { code: "no_such_endpoint", message: "no such API endpoint; see docs/api.md for the API" },
    });
  });
  app.use(dashboardRoutes(deps));
  app.use(errorMiddleware(deps.log, deps.storage));
  return app;
}
