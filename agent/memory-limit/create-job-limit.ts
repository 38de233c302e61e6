import { MemfarmError } from "../../protocol/errors.ts";
import { createCgroupLimit } from "./cgroup-limit.ts";
import { detectCgroupSupport } from "./cgroup-support.ts";
import type { JobLimit, LimitMode } from "./job-limit.ts";
import { WatchdogLimit } from "./watchdog-limit.ts";

export interface JobLimitOptions {
  /** The cgroup's directory name, e.g. `attempt-42-1`. */
  name: string;
  limitBytes: number;
  mode?: LimitMode;
  /** Where job cgroups go (tests point these at a directory tree that mimics cgroup files). */
  v2Parent?: string;
  v1Parent?: string;
  watchdogIntervalMs?: number;
}

const NAME = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * The best limit this host offers: cgroup v2, then v1, then the watchdog.
 * A cgroup that cannot be set up (permissions, a missing controller) falls back
 * to the next way rather than running the job unlimited.
 */
export function createJobLimit(options: JobLimitOptions): JobLimit {
  if (!NAME.test(options.name))
    throw new MemfarmError("invalid_limit_name", `"${options.name}" cannot name a cgroup`);
  const mode = options.mode ?? "auto";
  const given = options.v2Parent !== undefined || options.v1Parent !== undefined;
  const support = given ? { v2: null, v1: null, reason: "" } : detectCgroupSupport();
  const v2 = options.v2Parent ?? support.v2;
  const v1 = options.v1Parent ?? support.v1;
  if ((mode === "auto" || mode === "v2") && v2) {
    try {
      return createCgroupLimit("v2", v2, options.name, options.limitBytes);
    } catch (thrown) {
      if (mode === "v2") throw thrown;
    }
  }
  if ((mode === "auto" || mode === "v1") && v1) {
    try {
      return createCgroupLimit("v1", v1, options.name, options.limitBytes);
    } catch (thrown) {
      if (mode === "v1") throw thrown;
    }
  }
  if (mode === "v1" || mode === "v2") {
    throw new MemfarmError(
      "cgroup_unavailable",
      `cgroup ${mode} cannot limit memory here: ${support.reason}`,
    );
  }
  return new WatchdogLimit(options.limitBytes, options.watchdogIntervalMs);
}
