import { constants } from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";

const CGROUP_FS = "/sys/fs/cgroup";

/**
 * Where job cgroups go under cgroup v1's memory controller: a `memfarm` child
 * of the agent's own memory cgroup, so limits set above the agent (a container,
 * a systemd slice) still cover its jobs. v1 allows processes in inner groups.
 */
export async function defaultV1Root(): Promise<string> {
  const own = (await readText("/proc/self/cgroup"))
    ?.split("\n")
    .map((line) => line.split(":"))
    .find(([, controllers]) => controllers?.split(",").includes("memory"))?.[2]
    ?.trim();
  return join(CGROUP_FS, "memory", own ?? "/", "memfarm");
}

export interface CgroupSupport {
  /** The directory job cgroups would go in under cgroup v2, or null if v2 cannot limit memory here. */
  v2: string | null;
  /** The same under cgroup v1's memory controller, or null. */
  v1: string | null;
  /** Why the missing ones are missing, for the agent's log (empty when both are usable). */
  reason: string;
}

/**
 * Which cgroup versions can limit a job's memory on this host, and where the
 * job cgroups would go. It changes nothing on the host; createJobLimit runs
 * the same checks before it makes a cgroup.
 */
export async function detectCgroupSupport(): Promise<CgroupSupport> {
  const reasons: string[] = [];
  const v2Root = await defaultV2Root();
  const v2Problem = v2Root === null ? "no cgroup v2 hierarchy is mounted" : await problemWithV2Root(v2Root);
  if (v2Problem !== null) reasons.push(`cgroup v2: ${v2Problem}`);
  const v1Root = await defaultV1Root();
  const v1Problem = await problemWithV1Root(v1Root);
  if (v1Problem !== null) reasons.push(`cgroup v1: ${v1Problem}`);
  return {
    v2: v2Problem === null ? v2Root : null,
    v1: v1Problem === null ? v1Root : null,
    reason: reasons.join("; "),
  };
}

/**
 * The default directory for job cgroups under v2: the parent of the agent's
 * own cgroup, so jobs are its siblings. They cannot go inside the agent's
 * cgroup: v2 lets only leaf cgroups hold processes, and the agent's holds the
 * agent. An agent in the root cgroup (a container with its own cgroup
 * namespace) or just under it uses `memfarm` under the root, so jobs do not
 * litter the top level.
 */
export async function defaultV2Root(): Promise<string | null> {
  const mount = await v2Mount();
  if (mount === null) return null;
  const own = (await readText("/proc/self/cgroup"))
    ?.split("\n")
    .find((line) => line.startsWith("0::"))
    ?.slice(3)
    .trim();
  const parent = own === undefined || own === "/" ? "/" : dirname(own);
  return parent === "/" ? join(mount, "memfarm") : join(mount, parent);
}

/** /sys/fs/cgroup on a pure v2 host; /sys/fs/cgroup/unified on a hybrid one (such as this VM). */
async function v2Mount(): Promise<string | null> {
  for (const mount of [CGROUP_FS, join(CGROUP_FS, "unified")]) {
    if (await exists(join(mount, "cgroup.controllers"))) return mount;
  }
  return null;
}

/**
 * Why job cgroups cannot go in `root` under v2, or null if they can. The
 * directory must be a cgroup that can use the memory controller (or, if it is
 * not made yet, its parent must hand the controller down), be writable, and be
 * able to hand the controller to the job cgroups: a cgroup holding processes
 * of its own cannot.
 */
export async function problemWithV2Root(root: string): Promise<string | null> {
  if (!(await exists(root))) {
    const parent = dirname(root);
    const parentControllers = await readText(join(parent, "cgroup.controllers"));
    const parentControl = await readText(join(parent, "cgroup.subtree_control"));
    if (parentControllers === null || parentControl === null)
      return `neither ${root} nor its parent is a cgroup v2 directory`;
    if (!words(parentControllers).includes("memory"))
      return `${parent} has no memory controller (cgroup.controllers: "${parentControllers.trim()}")`;
    if (!words(parentControl).includes("memory"))
      return `${parent}/cgroup.subtree_control does not enable memory ("${parentControl.trim()}")`;
    return (await writable(parent))
      ? null
      : `${parent} is not writable (run the agent as root or delegate it)`;
  }
  const controllers = await readText(join(root, "cgroup.controllers"));
  if (controllers === null) return `${root} is not a cgroup v2 directory`;
  if (!words(controllers).includes("memory"))
    return `${root} has no memory controller (cgroup.controllers: "${controllers.trim()}")`;
  if (!(await writable(root))) return `${root} is not writable (run the agent as root or delegate it)`;
  const subtree = (await readText(join(root, "cgroup.subtree_control"))) ?? "";
  const ownProcesses = ((await readText(join(root, "cgroup.procs"))) ?? "").trim() !== "";
  const isHierarchyRoot = !(await exists(join(dirname(root), "cgroup.controllers")));
  if (!words(subtree).includes("memory") && ownProcesses && !isHierarchyRoot)
    return `${root} holds processes, so it cannot enable memory for job cgroups`;
  return null;
}

/** Why job cgroups cannot go in `root` under v1's memory controller, or null if they can. */
export async function problemWithV1Root(root: string): Promise<string | null> {
  const dir = (await exists(root)) ? root : dirname(root);
  if (!(await exists(join(dir, "memory.limit_in_bytes"))))
    return dir === root
      ? `${root} is not a cgroup v1 memory directory`
      : `no cgroup v1 memory controller at ${dir}`;
  return (await writable(dir)) ? null : `${dir} is not writable (run the agent as root)`;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function writable(path: string): Promise<boolean> {
  try {
    await access(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
