import { coerceError } from "../../protocol/errors.ts";
import { AgentState, isFinalStatus, Priority } from "../../protocol/job-status.ts";
import { KeyedMutex } from "../../protocol/keyed-mutex.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { BisectionResource, RangeCommit, RegressionResource } from "../../protocol/resources.ts";
import { formatGrowth } from "../../protocol/sizes.ts";
import type { FarmEvents } from "../attempts/farm-events.ts";
import type { JobService } from "../jobs/job-service.ts";
import type { Store } from "../store/store.ts";
import { type BisectionStep, nextStep } from "./bisection-plan.ts";
import type { CommitRanges } from "./commit-range.ts";
import { readProbe } from "./probe-verdict.ts";
import { watchJobRequest } from "./watch-request.ts";

/** No more probes at once than this, however many hosts are free: the range shrinks little faster. */
const MAX_WIDTH = 8;

export interface BisectorDeps {
  store: Store;
  jobs: JobService;
  events: FarmEvents;
  ranges: CommitRanges;
  log: Logger;
  /**
   * Tells the culprit's pull request (the PR bot, when it is configured and the watch asked for
   * it); resolves to the comment's URL, or null when there is none to write.
   */
  announceCulprit?: (regression: RegressionResource, bisection: BisectionResource) => Promise<string | null>;
}

/**
 * Finds the commit that caused a regression, on its own: the commits of the regression's range
 * (the watch tested only some heads) are read from the coordinator's mirror, and rounds of
 * low-priority probe jobs, each running only the regression's test file at the watch's memlimit,
 * narrow it down (see bisection-plan.ts) until the culprit is named and confirmed. Everything a
 * bisection knows is in the store, and each step is decided from it afresh, so a coordinator that
 * restarts carries on where it stopped.
 */
export class Bisector {
  private unsubscribe: () => void = () => {};
  /** One step at a time per bisection: a job event and a resume must not both submit a round. */
  private readonly steps = new KeyedMutex();
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborted by stop(): a git command in flight (a first clone takes minutes) does not hold the shutdown. */
  private readonly stopping = new AbortController();

  constructor(private readonly deps: BisectorDeps) {}

  start(): void {
    this.unsubscribe = this.deps.events.on("job", (job) => {
      if (job.provenance.bisect === undefined || !isFinalStatus(job.status)) return;
      void this.advance(job.provenance.bisect);
    });
    for (const id of this.deps.store.bisections.running()) void this.advance(id);
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    this.stopping.abort(new Error("the coordinator is stopping"));
    await Promise.all(this.inFlight);
  }

  /** A regression was opened: bisect it, if it has a range to bisect. */
  begin(regression: RegressionResource): void {
    const { store, log } = this.deps;
    const watch = store.watches.get(regression.watch);
    if (!watch || regression.goodCommit === null || regression.badCommit === null) return;
    // Only the regression's test file, at the watch's memlimit, behind submitted work.
    const request = { ...watchJobRequest(watch), tests: [regression.test], priority: Priority.low };
    if (
      !store.bisections.insert({
        regressionId: regression.id,
        repo: watch.repo,
        branch: watch.branch,
        request,
      })
    )
      return;
    log.info("bisecting a regression", {
      regression: regression.id,
      watch: watch.name,
      test: regression.test,
    });
    void this.advance(regression.id);
  }

  /** Takes the bisection's next step; resolves (never rejects) when it is taken. */
  advance(regressionId: number): Promise<void> {
    const { signal } = this.stopping;
    const step = this.steps
      .run(String(regressionId), signal, () => this.step(regressionId, signal))
      .catch((thrown: unknown) => {
        // Stopped mid-step: the bisection stays running, and the next coordinator resumes it.
        if (!signal.aborted) this.fail(regressionId, coerceError(thrown).message);
      })
      .catch((thrown: unknown) =>
        this.deps.log.error("a bisection step failed", {
          regression: regressionId,
          error: coerceError(thrown).message,
        }),
      );
    this.inFlight.add(step);
    void step.finally(() => this.inFlight.delete(step));
    return step;
  }

  private async step(regressionId: number, signal: AbortSignal): Promise<void> {
    const { store } = this.deps;
    const regression = store.regressions.get(regressionId);
    let bisection = store.bisections.get(regressionId);
    if (!regression || bisection?.state !== "running") return;
    if (bisection.commits.length === 0) {
      const commits = await this.deps.ranges.read(
        bisection.repo,
        bisection.branch,
        regression.goodCommit ?? "",
        regression.badCommit ?? "",
        signal,
      );
      store.bisections.setCommits(regressionId, commits);
      bisection = store.bisections.get(regressionId) as BisectionResource;
    }
    this.judgeFinishedProbes(regression, bisection);
    bisection = store.bisections.get(regressionId) as BisectionResource;
    const next = nextStep({
      good: regression.goodCommit ?? "",
      range: bisection.commits.map((commit) => commit.sha),
      probes: bisection.probes,
      width: this.freeHosts(regressionId),
    });
    await this.take(next, regression, bisection);
  }

  private judgeFinishedProbes(regression: RegressionResource, bisection: BisectionResource): void {
    const { store } = this.deps;
    for (const probe of bisection.probes) {
      if (probe.verdict !== null) continue;
      const job = store.jobs.get(probe.jobId);
      if (!job || !isFinalStatus(job.status)) continue;
      const reading = readProbe(regression, job, store.tests.list(job.id));
      store.bisections.judgeProbe(regression.id, job.id, reading.verdict, reading.peakBytes, reading.outcome);
    }
  }

  private async take(next: BisectionStep, regression: RegressionResource, bisection: BisectionResource) {
    const { store, log } = this.deps;
    const round = bisection.rounds + 1;
    switch (next.kind) {
      case "wait":
        return;
      case "probe":
        await this.submitRound(
          regression.id,
          round,
          next.commits.map((sha) => ({ sha, purpose: "probe" as const })),
        );
        log.info("bisection round queued", {
          regression: regression.id,
          round,
          commits: next.commits.length,
        });
        return;
      case "confirm":
        await this.submitRound(regression.id, round, [
          { sha: next.good, purpose: "confirm" },
          { sha: next.bad, purpose: "confirm" },
        ]);
        return;
      case "found": {
        const summary = foundSummary(regression, bisection, next.culprit, next.lastGood, next.culpritRange);
        if (
          !store.bisections.finish(regression.id, {
            state: "found",
            summary,
            culprit: next.culprit,
            culpritRange: next.culpritRange,
          })
        )
          return;
        log.warn("bisection found the culprit", {
          regression: regression.id,
          culprit: next.culprit,
          rounds: bisection.rounds,
        });
        await this.announce(regression.id);
        return;
      }
      case "flaky": {
        const summary = flakySummary(regression, bisection, next);
        if (!store.bisections.finish(regression.id, { state: "flaky", summary })) return;
        store.regressions.close(regression.id, `not reproduced: ${summary}`);
        log.info("bisection found the test flaky, not a commit", { regression: regression.id });
        return;
      }
    }
  }

  /** Queues one job per commit of the round; a refused job fails the bisection. */
  private async submitRound(
    regressionId: number,
    round: number,
    probes: { sha: string; purpose: "probe" | "confirm" }[],
  ): Promise<void> {
    const { store, jobs } = this.deps;
    const request = store.bisections.requestOf(regressionId) ?? {};
    const requester =
      store.watches.get(store.regressions.get(regressionId)?.watch ?? "")?.requester ?? "memfarm";
    for (const probe of probes) {
      const job = await jobs.submit(request, requester, {
        source: "bisect",
        bisect: regressionId,
        commit: probe.sha,
      });
      // Recorded one by one: if a later one is refused, the jobs already queued are still known.
      store.bisections.addProbe(regressionId, round, { jobId: job.id, ...probe });
    }
  }

  private fail(regressionId: number, why: string): void {
    if (
      this.deps.store.bisections.finish(regressionId, {
        state: "failed",
        summary: `the bisection stopped: ${why}`,
      })
    )
      this.deps.log.error("a bisection failed", { regression: regressionId, error: why });
  }

  private async announce(regressionId: number): Promise<void> {
    const { store, log, announceCulprit } = this.deps;
    const regression = store.regressions.get(regressionId);
    const bisection = store.bisections.get(regressionId);
    if (!announceCulprit || !regression || !bisection) return;
    try {
      const url = await announceCulprit(regression, bisection);
      if (url) store.bisections.recordComment(regressionId, url);
    } catch (thrown) {
      log.warn("the culprit's pull request could not be told", {
        regression: regressionId,
        error: coerceError(thrown).message,
      });
    }
  }

  /** How many probes a round may run: the online hosts that can take the watch's jobs. */
  private freeHosts(regressionId: number): number {
    const labels = (this.deps.store.bisections.requestOf(regressionId)?.labels ?? {}) as Record<
      string,
      string
    >;
    const hosts = this.deps.store.agents
      .capacities()
      .filter(
        (agent) =>
          agent.state === AgentState.online &&
          Object.entries(labels).every(([key, value]) => agent.labels[key] === value),
      ).length;
    return Math.min(Math.max(hosts, 1), MAX_WIDTH);
  }
}

const short = (sha: string) => sha.slice(0, 12);
const describe = (commit: RangeCommit | undefined, sha: string) =>
  commit ? `${short(sha)} "${commit.subject}" (${commit.author})` : short(sha);

function foundSummary(
  regression: RegressionResource,
  bisection: BisectionResource,
  culprit: string,
  lastGood: string,
  culpritRange: string[] | null,
): string {
  const confirmed = bisection.probes.filter((probe) => probe.purpose === "confirm");
  const before = confirmed.find((probe) => probe.sha === lastGood);
  const after = confirmed.find((probe) => probe.sha === culprit);
  const commit = bisection.commits.find((one) => one.sha === culprit);
  const change =
    regression.kind === "memory"
      ? `${regression.test}'s peak grew ${formatGrowth(before?.peakBytes ?? regression.baseBytes, after?.peakBytes ?? regression.newBytes)}`
      : `${regression.test} went from ${before?.outcome ?? regression.goodOutcome ?? "?"} to ${after?.outcome ?? regression.badOutcome ?? "?"}`;
  const where = culpritRange
    ? `at one of ${culpritRange.map(short).join(", ")} (the ones before ${short(culprit)} do not build)`
    : `at ${describe(commit, culprit)}`;
  const jobs = bisection.probes.length;
  return `${change} ${where}; after ${short(lastGood)}; ${jobs} job${jobs === 1 ? "" : "s"} in ${bisection.rounds} round${bisection.rounds === 1 ? "" : "s"}, the boundary confirmed by jobs ${before?.jobId ?? "?"} and ${after?.jobId ?? "?"}`;
}

function flakySummary(
  regression: RegressionResource,
  bisection: BisectionResource,
  step: Extract<BisectionStep, { kind: "flaky" }>,
): string {
  const rerun = (sha: string) =>
    bisection.probes.find((probe) => probe.purpose === "confirm" && probe.sha === sha);
  const parts: string[] = [];
  if (step.side !== "good")
    parts.push(`it was good at ${short(step.bad)} when run again (job ${rerun(step.bad)?.jobId ?? "?"})`);
  if (step.side !== "bad")
    parts.push(`it was bad at ${short(step.good)} when run again (job ${rerun(step.good)?.jobId ?? "?"})`);
  return `${regression.test} is flaky here, not changed by a commit: ${parts.join(", and ")}`;
}
