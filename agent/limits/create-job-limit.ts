import { MemfarmError } from "../../protocol/errors.ts";
import { CgroupLimit } from "./cgroup-limit.ts";
import { defaultV1Root, defaultV2Root } from "./cgroup-support.ts";
import type { JobLimit, JobLimitOptions } from "./job-limit.ts";
import { WatchdogLimit } from "./watchdog-limit.ts";

/** A cgroup directory name: no path separators, no dots, nothing a shell or the kernel reads specially. */
const NAME = /^[A-Za-z0-9_-]{1,128}$/;
const DEFAULT_INTERVAL_MS = 100;

/**
 * The best limit this host offers for one job: cgroup v2, then v1, then the
 * watchdog. In `auto` mode a cgroup that cannot be set up (no memory
 * controller, no permission) falls back to the next way rather than running
 * the job unlimited; a forced mode throws instead, saying why.
 */
export async function createJobLimit(options: JobLimitOptions): Promise<JobLimit> {
  const { name, limitBytes } = options;
  const intervalMs = checkedIntervalMs(options);
  const mode = options.mode ?? "auto";
  const onOom = onceOnly(options.onOom ?? (() => {}));
  const cgroup = async (version: "v1" | "v2") =>
    CgroupLimit.create(version, await jobCgroupRoot(version, options), name, limitBytes, intervalMs, onOom);
  if (mode === "v2" || mode === "v1") return cgroup(mode);
  if (mode === "auto") {
    for (const version of ["v2", "v1"] as const) {
      try {
        return await cgroup(version);
      } catch {
        // Not usable here; detectCgroupSupport says why, for the agent's log.
      }
    }
  }
  return new WatchdogLimit(limitBytes, intervalMs, onOom);
}

/** The directory job cgroups go in under `version`: the override in `roots`, else the default. */
export async function jobCgroupRoot(
  version: "v1" | "v2",
  roots: Pick<JobLimitOptions, "v1Root" | "v2Root">,
): Promise<string> {
  const root =
    version === "v2" ? (roots.v2Root ?? (await defaultV2Root())) : (roots.v1Root ?? (await defaultV1Root()));
  if (root === null)
    throw new MemfarmError("cgroup_unavailable", "cgroup v2: no cgroup v2 hierarchy is mounted");
  return root;
}

/**
 * Throws, saying what is wrong, for a name that cannot name a cgroup, a limit
 * that is not a positive whole number of bytes or a poll interval under 1 ms;
 * else the poll interval to use.
 */
export function checkedIntervalMs(options: JobLimitOptions): number {
  const { name, limitBytes } = options;
  if (!NAME.test(name)) {
    throw new MemfarmError(
      "invalid_limit_name",
      `"${name}" cannot name a cgroup: use letters, digits, _ and -`,
    );
  }
  if (!Number.isSafeInteger(limitBytes) || limitBytes <= 0) {
    throw new MemfarmError(
      "invalid_limit",
      `a memory limit must be a positive whole number of bytes, not ${limitBytes}`,
    );
  }
  const intervalMs = options.watchdogIntervalMs ?? DEFAULT_INTERVAL_MS;
  if (!Number.isFinite(intervalMs) || intervalMs < 1) {
    throw new MemfarmError("invalid_limit", `the poll interval must be at least 1 ms, not ${intervalMs}`);
  }
  return intervalMs;
}

export function onceOnly(callback: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    callback();
  };
}
