import { accessSync, constants, existsSync } from "node:fs";
import { join } from "node:path";
import { readText } from "./proc-files.ts";

const CGROUP_ROOT = "/sys/fs/cgroup";

export interface CgroupSupport {
  /** Parent directory for job cgroups under cgroup v2, or null if v2 cannot limit memory here. */
  v2: string | null;
  /** Parent directory for job cgroups under cgroup v1's memory controller, or null. */
  v1: string | null;
  /** Why the missing ones are missing, for the agent's log. */
  reason: string;
}

/** This process's cgroup path in the hierarchy whose /proc/self/cgroup line matches. */
function ownCgroup(match: (controllers: string) => boolean): string | null {
  for (const line of (readText("/proc/self/cgroup") ?? "").split("\n")) {
    const [, controllers = "", path] = line.split(":");
    if (path !== undefined && match(controllers)) return path;
  }
  return null;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Which cgroup versions can limit a job's memory on this host. Job cgroups go
 * under the agent's own cgroup (in a `memfarm` child), so the host's or the
 * container's limits above the agent still apply to its jobs.
 */
export function detectCgroupSupport(): CgroupSupport {
  const reasons: string[] = [];
  let v2: string | null = null;
  const unified = existsSync(join(CGROUP_ROOT, "cgroup.controllers"))
    ? CGROUP_ROOT
    : join(CGROUP_ROOT, "unified");
  const controllers = readText(join(unified, "cgroup.controllers"));
  if (controllers === null) reasons.push("no cgroup v2 hierarchy");
  else if (!controllers.split(/\s+/).includes("memory"))
    reasons.push("cgroup v2 has no memory controller here");
  else {
    const own = ownCgroup((names) => names === "") ?? "/";
    const parent = join(unified, own);
    if (writable(parent)) v2 = join(parent, "memfarm");
    else
      reasons.push(`cgroup v2: ${parent} is not writable (run the agent as root or with a delegated cgroup)`);
  }
  let v1: string | null = null;
  const memoryRoot = join(CGROUP_ROOT, "memory");
  if (!existsSync(join(memoryRoot, "memory.limit_in_bytes"))) reasons.push("no cgroup v1 memory controller");
  else {
    const own = ownCgroup((names) => names.split(",").includes("memory")) ?? "/";
    const parent = join(memoryRoot, own);
    if (writable(parent)) v1 = join(parent, "memfarm");
    else reasons.push(`cgroup v1: ${parent} is not writable`);
  }
  return { v2, v1, reason: reasons.join("; ") };
}
