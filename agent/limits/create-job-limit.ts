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
  const mode = options.mode ?? "auto";
  const onOom = onceOnly(options.onOom ?? (() => {}));
  const cgroup = async (version: "v1" | "v2") => {
    const root =
      version === "v2"
        ? (options.v2Root ?? (await defaultV2Root()))
        : (options.v1Root ?? (await defaultV1Root()));
    if (root === null)
      throw new MemfarmError("cgroup_unavailable", "cgroup v2: no cgroup v2 hierarchy is mounted");
    return CgroupLimit.create(version, root, name, limitBytes, intervalMs, onOom);
  };
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

function onceOnly(callback: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    callback();
  };
}
