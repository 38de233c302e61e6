import { ConflictError, coerceError, NotFoundError, ValidationError } from "../../protocol/errors.ts";
import { JobStatus } from "../../protocol/job-status.ts";
import { Lifecycle } from "../../protocol/lifecycle.ts";
import type { Logger } from "../../protocol/logger.ts";
import { checkTestName } from "../../protocol/names.ts";
import type { WatchResource, WatchRunResource } from "../../protocol/resources.ts";
import type { Transitions } from "../attempts/transitions.ts";
import type { JobService } from "../jobs/job-service.ts";
import type { Suite } from "../jobs/suites.ts";
import type { Store } from "../store/store.ts";
import { MAX_HISTORY } from "../store/watch-history-store.ts";
import { type CachedHistory, HISTORY_CACHE_BYTES, WatchHistoryCache } from "./history-cache.ts";
import { lsRemoteHead } from "./ls-remote.ts";
import { checkWatchName, parseWatchRequest, watchJobRequest } from "./watch-request.ts";

/** How many runs a history answer holds unless `limit` says otherwise. */
const DEFAULT_HISTORY = 200;

/** How often the service looks for watches that are due; each watch has its own interval. */
const TICK_MS = 1_000;

export interface WatchServiceDeps {
  store: Store;
  jobs: JobService;
  transitions: Transitions;
  suites: Map<string, Suite>;
  log: Logger;
  /** Looks up a branch's head; `git ls-remote` unless a test needs otherwise. */
  lookUpHead?: typeof lsRemoteHead;
  /** How many bytes of history answers to keep in memory (HISTORY_CACHE_BYTES unless given). */
  historyCacheBytes?: number;
}

/**
 * Watched branches: each is looked up at its interval (and at once on `checkNow`, e.g. from a
 * GitHub push), and every new head queues a job of the watch's suite pinned to that commit. While
 * the farm is busy, heads coalesce as Buildbot's collapsed requests do: a watch has at most one
 * job waiting in the queue, the newest head takes it over, and the heads it replaced are recorded
 * as untested. A failing look-up (the remote is down, the branch was deleted) is recorded on the
 * watch and queues nothing.
 *
 * Lifecycle: created → running (start) → stopped (stop: no look-up starts; those in flight end).
 */
export class WatchService {
  private readonly lifecycle: Lifecycle<"created" | "running" | "stopped">;
  private timer: NodeJS.Timeout | null = null;
  private readonly checking = new Map<string, Promise<void>>();
  private readonly historyCache: WatchHistoryCache;

  constructor(private readonly deps: WatchServiceDeps) {
    this.historyCache = new WatchHistoryCache(
      deps.store.watchHistory,
      deps.historyCacheBytes ?? HISTORY_CACHE_BYTES,
    );
    this.lifecycle = new Lifecycle<"created" | "running" | "stopped">("created", "watches", deps.log);
  }

  start(): void {
    this.lifecycle.set("running", "watches running", { watches: this.deps.store.watches.list().length });
    this.timer = setInterval(() => this.checkDue(), TICK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.lifecycle.set("stopped", "watches stopped: no branch is looked up any more");
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.checking.values());
  }

  add(body: unknown, requester: string): WatchResource {
    const watch = parseWatchRequest(body, this.deps.suites, requester);
    if (!this.deps.store.watches.insert(watch)) {
      throw new ConflictError(
        "watch_exists",
        `a watch named ${watch.name} exists already; pick another name`,
      );
    }
    this.deps.log.info("watch added", { watch: watch.name, repo: watch.repo, branch: watch.branch });
    void this.check(watch.name);
    return this.find(watch.name);
  }

  list(): WatchResource[] {
    return this.deps.store.watches.list();
  }

  find(name: string): WatchResource {
    const watch = this.deps.store.watches.get(checkWatchName(name));
    if (!watch) throw new NotFoundError(`no watch is named ${name}; memfarm watch list shows them`);
    return watch;
  }

  pause(name: string): WatchResource {
    this.deps.store.watches.setPaused(this.find(name).name, true);
    return this.find(name);
  }

  resume(name: string): WatchResource {
    this.deps.store.watches.setPaused(this.find(name).name, false);
    void this.check(name);
    return this.find(name);
  }

  remove(name: string): { removed: string } {
    this.deps.store.watches.remove(this.find(name).name);
    this.deps.log.info("watch removed", { watch: name });
    return { removed: name };
  }

  /**
   * The watch's runs, newest first, for a test (file or case) or for whole jobs: what its memory
   * trend is drawn from. `limit` at most MAX_HISTORY. The runs come as JSON bytes (a JSON array of
   * WatchRunResource) with their ETag, to be sent as they are, from memory while the watch's
   * history is unchanged (history-cache.ts).
   */
  history(
    name: string,
    test: string | undefined,
    limit: string | undefined,
  ): { watch: string; test: string | null; runs: CachedHistory } {
    const watch = this.find(name);
    const count = limit === undefined ? DEFAULT_HISTORY : Number(limit);
    if (!Number.isInteger(count) || count < 1 || count > MAX_HISTORY) {
      throw new ValidationError(
        "invalid_limit",
        `limit must be a whole number from 1 to ${MAX_HISTORY}`,
        "limit",
      );
    }
    const testName = test === undefined || test === "" ? null : checkTestName(test, "test");
    return { watch: watch.name, test: testName, runs: this.historyCache.get(watch.name, testName, count) };
  }

  /** The last `limit` runs of a watch for the dashboard, as history() has them; none for no such watch. */
  runs(name: string, test: string | null, limit: number): WatchRunResource[] {
    return JSON.parse(this.historyCache.get(name, test, limit).runsJson.toString()) as WatchRunResource[];
  }

  /** Looks the branch up now (a push was announced, or a person asked); resolves once it is done. */
  async checkNow(name: string): Promise<WatchResource> {
    await this.check(this.find(name).name);
    return this.find(name);
  }

  /** The watches of `repo` (any URL form that names it) on `branch`: a GitHub push for them. */
  watchesOf(matches: (repo: string) => boolean, branch: string): string[] {
    return this.list()
      .filter((watch) => !watch.paused && watch.branch === branch && matches(watch.repo))
      .map((watch) => watch.name);
  }

  private checkDue(): void {
    if (!this.lifecycle.is("running")) return;
    const now = Date.now();
    for (const watch of this.list()) {
      if (watch.paused || this.checking.has(watch.name)) continue;
      const last = watch.checkedAt ? Date.parse(watch.checkedAt) : 0;
      if (now - last >= watch.everySeconds * 1000) void this.check(watch.name);
    }
  }

  /** One look-up at a time per watch; a second ask while one runs waits for it. */
  private check(name: string): Promise<void> {
    const running = this.checking.get(name);
    if (running) return running;
    const done = this.lookUp(name)
      .catch((thrown: unknown) =>
        this.deps.log.error("a watch's look-up failed", { watch: name, error: coerceError(thrown).message }),
      )
      .finally(() => this.checking.delete(name));
    this.checking.set(name, done);
    return done;
  }

  private async lookUp(name: string): Promise<void> {
    const { store, log } = this.deps;
    const watch = store.watches.get(name);
    if (!watch || watch.paused) return;
    const found = await (this.deps.lookUpHead ?? lsRemoteHead)(watch.repo, watch.branch);
    if (!store.watches.get(name)) return; // removed meanwhile
    if ("error" in found) {
      if (watch.error !== found.error)
        log.warn("a watched branch could not be looked up", { watch: name, error: found.error });
      store.watches.recordCheckFailed(name, found.error);
      return;
    }
    store.watches.recordHead(name, found.head);
    // Seen already, and tested or taken over; a head whose job was refused is tried again.
    if (watch.commits.some((commit) => commit.sha === found.head)) return;
    await this.queueHead(watch, found.head);
  }

  /** Queues a job for a new head, or gives the watch's waiting job to it (the newest head wins). */
  private async queueHead(watch: WatchResource, head: string): Promise<void> {
    const { store, transitions, log } = this.deps;
    const waiting = watch.queuedJobId === null ? null : store.jobs.get(watch.queuedJobId);
    if (waiting?.status === JobStatus.queued && transitions.repinQueuedJob(waiting.id, head)) {
      store.watches.markUntested(watch.name, waiting.id);
      store.watches.recordCommit(watch.name, head, waiting.id);
      log.info("a newer head took over the watch's queued job", { watch: watch.name, job: waiting.id, head });
      return;
    }
    const body = watchJobRequest(watch);
    try {
      const job = await this.deps.jobs.submit(body, watch.requester, {
        source: "watch",
        watch: watch.name,
        commit: head,
      });
      this.deps.store.watches.recordCommit(watch.name, head, job.id);
      this.deps.log.info("a new head of a watched branch is queued", {
        watch: watch.name,
        job: job.id,
        head,
      });
    } catch (thrown) {
      // A job the farm refuses (no agent could ever run it): shown on the watch, tried at the next head.
      this.deps.store.watches.recordCheckFailed(
        watch.name,
        `a job for ${head} was refused: ${coerceError(thrown).message}`,
      );
    }
  }
}
