import type { Sample } from "../../protocol/messages.ts";
import type { JobResource, TestResource } from "../../protocol/resources.ts";
import { downsample, type SampleBucket } from "./downsample.ts";

/** A test file's span on the chart's time axis. */
export interface TestSpan {
  name: string;
  startMs: number;
  endMs: number | null;
  outcome: string;
}

/**
 * What a memory chart shows: `GET /api/v1/jobs/:id/samples?buckets=N` answers
 * this, the server renders it as SVG and the job page's script redraws it live.
 */
export interface ChartData {
  jobId: number;
  status: string;
  buckets: SampleBucket[];
  /** The highest sample and when: where the chart marks the peak. */
  sampledPeak: { atMs: number; rssBytes: number } | null;
  /** The kernel's peak (cgroup peak or VmHWM), known once the job has ended; it can exceed every sample. */
  peakRssBytes: number | null;
  /** regrtest's -M, the scheduler's reservation, and the limit the agent enforced (cgroup or watchdog). */
  limits: { memlimitBytes: number | null; reservationBytes: number; limitBytes: number | null };
  tests: TestSpan[];
  /**
   * Test cases with a start time (sequential runs with -v record them): the chart marks each
   * on a strip under the plot and the hover readout names the one running.
   */
  cases: TestSpan[];
}

export const DEFAULT_BUCKETS = 300;

export function chartData(
  job: JobResource,
  samples: readonly Sample[],
  tests: readonly TestResource[],
  buckets = DEFAULT_BUCKETS,
): ChartData {
  let sampledPeak: ChartData["sampledPeak"] = null;
  for (const sample of samples) {
    if (!sampledPeak || sample.rssBytes > sampledPeak.rssBytes)
      sampledPeak = { atMs: sample.at, rssBytes: sample.rssBytes };
  }
  return {
    jobId: job.id,
    status: job.status,
    buckets: downsample(samples, buckets),
    sampledPeak,
    peakRssBytes: job.peakRssBytes,
    limits: {
      memlimitBytes: job.memlimitBytes,
      reservationBytes: job.reservationBytes,
      limitBytes: job.limitBytes,
    },
    tests: testSpans(tests, "file"),
    cases: testSpans(tests, "case"),
  };
}

/** Tests of one kind with a start time, in the order they began. */
function testSpans(tests: readonly TestResource[], kind: TestResource["kind"]): TestSpan[] {
  return tests
    .filter((test) => test.kind === kind && test.startedAt !== null)
    .map((test) => {
      const startMs = Date.parse(test.startedAt as string);
      const endMs = test.durationSeconds === null ? null : startMs + test.durationSeconds * 1000;
      return { name: test.name, startMs, endMs, outcome: test.outcome };
    })
    .sort((a, b) => a.startMs - b.startMs);
}
