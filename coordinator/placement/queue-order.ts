import { PRIORITY_RANK } from "./reasons.ts";
import type { PlacementJob } from "./types.ts";

/** The order jobs are considered in: high, normal, low; within one priority, first come first served. */
export function inQueueOrder(jobs: readonly PlacementJob[]): PlacementJob[] {
  return [...jobs].sort((a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.id - b.id);
}
