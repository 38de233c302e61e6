import { JobStatus } from "../../protocol/job-status.ts";
import type {
  BisectionProbe,
  JobResource,
  RegressionResource,
  TestResource,
} from "../../protocol/resources.ts";
import { BAD_OUTCOMES } from "./regressions.ts";

export interface ProbeReading {
  verdict: NonNullable<BisectionProbe["verdict"]>;
  peakBytes: number | null;
  outcome: string | null;
}

/**
 * What a finished probe job says of a regression at its commit. Memory: bad when the test's peak
 * is past the baseline by more than the noise and by more than half the growth seen (the midpoint
 * between before and after, as a performance bisection compares); a run out of memory is bad.
 * Outcome: bad when the test fails, leaks, errors, times out or runs out of memory, good when it
 * passes. A job that ran no such test (its commit did not build, or it was cancelled) is a skip.
 */
export function readProbe(
  regression: RegressionResource,
  job: JobResource,
  tests: TestResource[],
): ProbeReading {
  const lastAttempt = job.attempts.at(-1)?.id;
  const test = tests.findLast(
    (one) => one.kind === "file" && one.name === regression.test && one.attemptId === lastAttempt,
  );
  const outcome = test?.outcome ?? null;
  const peakBytes = test?.peakRssBytes ?? null;
  const oom = job.status === JobStatus.oom && outcome !== "passed";
  if (job.status === JobStatus.canceled || (!test && !oom)) return { verdict: "skip", peakBytes, outcome };
  if (regression.kind === "outcome") {
    if (oom || BAD_OUTCOMES.has(outcome ?? "")) return { verdict: "bad", peakBytes, outcome };
    return { verdict: outcome === "passed" ? "good" : "skip", peakBytes, outcome };
  }
  if (oom) return { verdict: "bad", peakBytes, outcome };
  if (peakBytes === null || regression.baseBytes === null) return { verdict: "skip", peakBytes, outcome };
  return { verdict: peakBytes > memoryThreshold(regression) ? "bad" : "good", peakBytes, outcome };
}

/** The peak above which a memory regression's test counts as regressed. */
export function memoryThreshold(regression: RegressionResource): number {
  const base = regression.baseBytes ?? 0;
  const grown = (regression.newBytes ?? base) - base;
  return base + Math.max(regression.noiseBytes ?? 0, grown / 2);
}
