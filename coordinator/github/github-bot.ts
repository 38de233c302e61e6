import type { Router } from "express";
import { coerceError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { BisectionResource, RegressionResource } from "../../protocol/resources.ts";
import type { FarmEvents } from "../attempts/farm-events.ts";
import type { JobService } from "../jobs/job-service.ts";
import type { Store } from "../store/store.ts";
import { BaseComparer } from "./base-comparison.ts";
import { commentOnCulprit } from "./culprit-comment.ts";
import { FeedbackSync } from "./feedback-sync.ts";
import { GithubClients } from "./github-client.ts";
import type { GithubConfig } from "./github-config.ts";
import { PrBot } from "./pr-bot.ts";
import { githubRepositoryOf } from "./push-event.ts";
import { webhookRoute } from "./webhook-route.ts";

export interface GithubBotDeps {
  config: GithubConfig;
  store: Store;
  jobs: JobService;
  events: FarmEvents;
  suiteNames: string[];
  /** The dashboard's address, known once the HTTP server listens. */
  publicUrl: () => string;
  /** A push to a branch of an allowed repository: the watches of that branch look it up now. */
  onPush?: (repository: string, branch: string) => void;
  log: Logger;
}

/**
 * The pull-request bot, assembled: the webhook route, the command handler and
 * the feedback sync that keeps check runs in step with jobs.
 *
 * Lifecycle: start() catches up on feedback left by a previous coordinator;
 * stop() (after the HTTP server has closed) waits for events being handled,
 * then for the sync pass in flight.
 */
export class GithubBot {
  readonly router: Router;
  private readonly sync: FeedbackSync;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly clients: GithubClients;
  private unsubscribe: () => void = () => {};

  constructor(private readonly deps: GithubBotDeps) {
    const { config, store, log } = deps;
    const clients = new GithubClients(config, log);
    this.clients = clients;
    const client = (installationId: number | null) => clients.forInstallation(installationId);
    const checkRuns = store.checkRuns;
    const jobUrl = (jobId: number) => `${deps.publicUrl()}/jobs/${jobId}`;
    this.sync = new FeedbackSync({
      store,
      checkRuns,
      comparer: new BaseComparer(store.jobs, store.tests),
      client,
      jobUrl,
      log,
      retryBaseMs: config.retryBaseMs,
    });
    const bot = new PrBot({
      jobs: deps.jobs,
      store,
      checkRuns,
      suiteNames: () => deps.suiteNames,
      allowedRepos: config.repos,
      client,
      onQueued: () => this.sync.wake(),
      onPush: deps.onPush,
      log,
    });
    this.router = webhookRoute({
      secret: config.webhookSecret,
      maxPayloadBytes: config.maxPayloadBytes,
      deliveries: store.githubDeliveries,
      dispatch: (event, payload) => this.track(bot.handle(event, payload)),
      log,
    });
  }

  start(): void {
    this.unsubscribe = this.deps.events.on("job", (job) => {
      if (job.provenance.pullRequest) this.sync.wake();
    });
    this.sync.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    await Promise.allSettled([...this.inFlight]);
    await this.sync.stop();
  }

  /**
   * A bisection named a regression's culprit: if its watch asked for it and its repository is one
   * the bot answers in, the culprit's pull request is told. Resolves to the comment's URL, or null.
   */
  async announceCulprit(
    regression: RegressionResource,
    bisection: BisectionResource,
  ): Promise<string | null> {
    const watch = this.deps.store.watches.get(regression.watch);
    const repository = watch ? githubRepositoryOf(watch.repo) : null;
    if (!watch?.commentOnCulprit || !repository || !this.deps.config.repos.has(repository)) return null;
    const base = this.deps.publicUrl();
    return commentOnCulprit(await this.clients.forRepository(repository), repository, regression, bisection, {
      regression: (id) => `${base}/regressions/${id}`,
      job: (id) => `${base}/jobs/${id}`,
    });
  }

  /** Resolves when the events received so far are handled and GitHub is up to date; for tests. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.sync.idle();
  }

  private track(handling: Promise<void>): void {
    const tracked = handling
      .catch((thrown) => this.deps.log.error("GitHub event failed", { error: coerceError(thrown).stack }))
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}
