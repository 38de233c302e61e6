/**
 * Job states. The same set is a CHECK constraint in the coordinator's SQLite
 * schema (coordinator/store/migrations/0001_init.sql); change both together.
 */
export const JobStatus = {
  queued: "queued",
  assigned: "assigned",
  running: "running",
  passed: "passed",
  failed: "failed",
  oom: "oom",
  timedOut: "timed_out",
  canceled: "canceled",
  error: "error",
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

export const FINAL_STATUSES = [
  JobStatus.passed,
  JobStatus.failed,
  JobStatus.oom,
  JobStatus.timedOut,
  JobStatus.canceled,
  JobStatus.error,
] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

export const ALL_STATUSES: readonly JobStatus[] = Object.values(JobStatus);

export function isFinalStatus(status: string): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

export const Priority = { low: "low", normal: "normal", high: "high" } as const;
export type Priority = (typeof Priority)[keyof typeof Priority];
export const ALL_PRIORITIES: readonly Priority[] = Object.values(Priority);

export const AgentState = { online: "online", draining: "draining", lost: "lost" } as const;
export type AgentState = (typeof AgentState)[keyof typeof AgentState];
