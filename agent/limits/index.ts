/** The per-job memory limit: one entry point for the agent. */

export type { CgroupSupport } from "./cgroup-support.ts";
export { detectCgroupSupport } from "./cgroup-support.ts";
export { createJobLimit } from "./create-job-limit.ts";
export type { JobLimit, JobLimitOptions, LimitKind, LimitMode } from "./job-limit.ts";
export type { LimitRequest, PreparedLimitsOptions } from "./prepared-limits.ts";
export { PreparedLimits } from "./prepared-limits.ts";
