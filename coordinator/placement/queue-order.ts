import { PRIORITY_RANK } from "./reasons.ts";
import type { PlacementJob } from "./types.ts";

/**
 * How far ahead of its submit time a job queues: as long as it would keep the largest host that can
 * run it fully busy (reservation × expected duration ÷ that host's capacity). At most the job's own
 * expected duration, since no job reserves more than its host offers.
 */
export function sizeCreditMs(job: PlacementJob, largestHostBytes: number): number {
  if (largestHostBytes <= 0) return 0;
  return (
    (Math.max(0, job.expectedDurationMs) * Math.min(job.reservationBytes, largestHostBytes)) /
    largestHostBytes
  );
}

/**
 * The order jobs are considered in: high, normal, then low priority; within one priority, first come
 * first served by submit time less the job's size credit, then by id.
 *
 * The credit is why jobs submitted together go biggest first: big and long jobs started first pack
 * a farm much tighter than the same jobs in random order, where the last big ones find only the few
 * hosts large enough and run alone at the end (docs/scheduling-benchmarks.md). It is bounded, so
 * first come first served still holds across time: a job is overtaken only by jobs submitted less
 * than their own expected duration after it, never starved by a stream of later ones.
 */
export function inQueueOrder(
  jobs: readonly PlacementJob[],
  largestHostFor: (labels: Record<string, string>) => number,
): PlacementJob[] {
  const key = new Map<PlacementJob, number>();
  for (const job of jobs) key.set(job, job.submittedMs - sizeCreditMs(job, largestHostFor(job.labels)));
  return [...jobs].sort(
    (a, b) =>
      PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] ||
      (key.get(a) ?? 0) - (key.get(b) ?? 0) ||
      a.id - b.id,
  );
}
