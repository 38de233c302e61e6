import { between, pick, seededRandom } from "../packing/rng.ts";

/**
 * The shape of the history the dashboard benchmark stores: how many jobs, how
 * their samples are spread (most jobs a few, a few long bigmem jobs most of
 * them: a 1 Hz sampler over days), which get logs and test rows. One seed,
 * so every run builds the same store.
 */
export interface HistoryPlan {
  jobs: number;
  samples: number;
  /** Long bigmem jobs and their sample counts (100k–500k each). */
  bigJobs: Map<number, number>;
  /** Samples of every other job (0–20). */
  smallSamples: (jobId: number) => number;
  random: () => number;
}

export const SUITES = [
  "bigmem-smoke",
  "bigmem-smoke",
  "bigmem-smoke",
  "refleak",
  "refleak",
  "bigmem",
] as const;
export const AGENTS = Array.from({ length: 20 }, (_, index) => `arm-${String(index + 1).padStart(2, "0")}`);
export const OUTCOMES = [
  ...Array(70).fill("passed"),
  ...Array(15).fill("failed"),
  ...Array(4).fill("oom"),
  ...Array(3).fill("timed_out"),
  ...Array(4).fill("canceled"),
  ...Array(4).fill("error"),
] as string[];

export function planHistory(jobs = 100_000, samples = 10_000_000, seed = 20261129): HistoryPlan {
  const random = seededRandom(seed);
  // 30 long jobs from 100k to 500k samples: 9 million together; the rest share the last million.
  const bigCount = 30;
  const bigJobs = new Map<number, number>();
  for (let index = 0; index < bigCount; index += 1) {
    const jobId = Math.round(((index + 0.5) * jobs) / bigCount);
    bigJobs.set(jobId, Math.round(100_000 + (400_000 * index) / (bigCount - 1)));
  }
  const bigTotal = [...bigJobs.values()].reduce((sum, count) => sum + count, 0);
  const perSmall = (samples - bigTotal) / (jobs - bigCount);
  // Deterministic per job and averaging perSmall: 0..2*perSmall, spread by a hash of the id.
  const smallSamples = (jobId: number) =>
    Math.floor((((jobId * 2654435761) % 1000) / 1000) * (2 * perSmall + 1));
  return { jobs, samples, bigJobs, smallSamples, random };
}

export { between, pick };
