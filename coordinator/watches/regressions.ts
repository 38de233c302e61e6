import { isFinalStatus, JobStatus } from "../../protocol/job-status.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { JobResource, RegressionResource, WatchRunResource } from "../../protocol/resources.ts";
import type { FarmEvents } from "../attempts/farm-events.ts";
import type { Store } from "../store/store.ts";

const MiB = 1024 * 1024;
/** The least growth that counts, whatever the history: 5 % and 32 MiB (a page cache's worth of noise). */
export const NOISE_FLOOR_FRACTION = 0.05;
export const NOISE_FLOOR_BYTES = 32 * MiB;
/** How many earlier good runs of a test make its baseline and its noise. */
const BASELINE_RUNS = 10;
/** Outcomes that make a test "bad" (oom is judged from the job's status). */
export const BAD_OUTCOMES: ReadonlySet<string> = new Set(["failed", "error", "leaked", "timed_out"]);

export interface Verdict {
  kind: "memory" | "outcome";
  base: WatchRunResource;
  baseBytes: number | null;
  noiseBytes: number | null;
}

/**
 * Whether a test's run got worse than its own history, and against which earlier run. `runs` is
 * the test's history in the watch, newest first, starting with the run to judge.
 * - memory: its peak is above the median of its last good runs by more than their spread (their
 *   noise on the code they ran), with a floor of 5 % and 32 MiB;
 * - outcome: the run before passed, and this one failed, errored, leaked or ran out of time.
 * A run of the same commit as the one before says nothing of a change (a re-run): never a regression.
 */
export function judgeRun(runs: WatchRunResource[], jobStatus: string): Verdict | null {
  const [now, ...before] = runs;
  if (!now || before.length === 0) return null;
  const previous = before[0] as WatchRunResource;
  if (now.commit !== null && now.commit === previous.commit) return null;
  // In a job that ran out of memory, the tests that had passed before it did are not to blame.
  const nowBad =
    BAD_OUTCOMES.has(now.outcome ?? "") || (jobStatus === JobStatus.oom && now.outcome !== "passed");
  if (previous.outcome === "passed" && nowBad) {
    return { kind: "outcome", base: previous, baseBytes: previous.peakRssBytes, noiseBytes: null };
  }
  const good = before
    .filter((run) => run.outcome === "passed" && run.peakRssBytes !== null)
    .slice(0, BASELINE_RUNS)
    .map((run) => run.peakRssBytes as number);
  if (now.peakRssBytes === null || good.length === 0) return null;
  const sorted = [...good].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  const spread = (sorted.at(-1) as number) - (sorted[0] as number);
  const noise = Math.max(spread, median * NOISE_FLOOR_FRACTION, NOISE_FLOOR_BYTES);
  if (now.peakRssBytes - median <= noise) return null;
  return { kind: "memory", base: previous, baseBytes: median, noiseBytes: Math.round(noise) };
}

/**
 * Opens a regression when a watch's finished job shows a test worse than its own history, and
 * closes one when a later commit is back within the noise (or passes again). It listens to job
 * events; it changes no job.
 */
export class RegressionFinder {
  private unsubscribe: () => void = () => {};

  constructor(
    private readonly store: Store,
    private readonly events: FarmEvents,
    private readonly log: Logger,
    /** Told of every regression opened (the bisector starts on it). */
    private readonly onOpened: (regression: RegressionResource) => void = () => {},
  ) {}

  start(): void {
    this.unsubscribe = this.events.on("job", (job) => {
      if (job.provenance.watch && isFinalStatus(job.status)) this.judge(job);
    });
  }

  stop(): void {
    this.unsubscribe();
  }

  /** Judges every test file of a finished job of a watch against that test's history. */
  judge(job: JobResource): void {
    const watch = job.provenance.watch;
    if (!watch) return;
    const files = this.store.tests.list(job.id).filter((test) => test.kind === "file");
    for (const test of files) {
      const runs = this.store.watchHistory.runs(watch, test.name, BASELINE_RUNS + 1);
      if (runs[0]?.jobId !== job.id) continue; // a later run was judged already
      this.closeFixed(watch, test.name, runs[0]);
      const verdict = judgeRun(runs, job.status);
      if (
        !verdict ||
        this.store.regressions.openFor(watch, test.name).some((open) => open.kind === verdict.kind)
      ) {
        continue;
      }
      const opened = this.store.regressions.open({
        watch,
        test: test.name,
        kind: verdict.kind,
        goodCommit: verdict.base.commit,
        badCommit: job.commit,
        goodJobId: verdict.base.jobId,
        badJobId: job.id,
        baseBytes: verdict.baseBytes,
        newBytes: runs[0].peakRssBytes,
        noiseBytes: verdict.noiseBytes,
        goodOutcome: verdict.base.outcome,
        badOutcome: runs[0].outcome,
      });
      this.log.warn("a watch found a regression", {
        watch,
        test: test.name,
        kind: opened.kind,
        regression: opened.id,
        goodCommit: opened.goodCommit,
        badCommit: opened.badCommit,
      });
      this.onOpened(opened);
    }
  }

  /** A run that passed within the noise of a memory regression's baseline closes it; a pass closes an outcome one. */
  private closeFixed(watch: string, test: string, run: WatchRunResource): void {
    if (run.outcome !== "passed") return;
    for (const open of this.store.regressions.openFor(watch, test)) {
      const back =
        open.kind === "outcome" ||
        (run.peakRssBytes !== null &&
          open.baseBytes !== null &&
          run.peakRssBytes - open.baseBytes <= (open.noiseBytes ?? NOISE_FLOOR_BYTES));
      if (
        back &&
        this.store.regressions.close(
          open.id,
          `fixed: back within the noise at ${run.commit ?? "?"} (job ${run.jobId})`,
        )
      ) {
        this.log.info("a regression is fixed", { watch, test, regression: open.id, commit: run.commit });
      }
    }
  }
}
