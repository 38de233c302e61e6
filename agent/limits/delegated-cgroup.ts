import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";

const CGROUP_FS = "/sys/fs/cgroup";
/** The leaf the agent moves itself into inside its delegated cgroup. */
const AGENT_LEAF = "agent";

/**
 * Under a systemd unit with `Delegate=yes` (the unit `memfarm hosts add` writes sets
 * MEMFARM_CGROUP_DELEGATED=1 beside it), the unit's cgroup is the agent's to manage, and systemd
 * leaves everything below it alone. cgroup v2 lets only leaves hold processes and hand
 * controllers down from a cgroup that holds none, so the agent moves itself into a leaf of its
 * own (`agent`) and enables memory and pids for the unit's cgroup's children: job cgroups then go
 * beside that leaf, inside the unit (defaultV2Root takes the parent of the agent's cgroup), not in
 * a slice systemd owns. Returns what it did, for the log; null when not delegated.
 */
export async function enterDelegatedLeaf(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  if (env.MEMFARM_CGROUP_DELEGATED !== "1") return null;
  const own = (await readFile("/proc/self/cgroup", "utf8"))
    .split("\n")
    .find((line) => line.startsWith("0::"))
    ?.slice(3)
    .trim();
  if (!own || own === "/") return "delegated, but the agent is in the root cgroup: nothing to do";
  if (basename(own) === AGENT_LEAF) return `already in its leaf ${own}`;
  const unit = join(CGROUP_FS, own);
  const leaf = join(unit, AGENT_LEAF);
  await mkdir(leaf, { recursive: true });
  await writeFile(join(leaf, "cgroup.procs"), String(process.pid));
  await writeFile(join(unit, "cgroup.subtree_control"), "+memory +pids");
  return `moved into ${join(own, AGENT_LEAF)}; job cgroups go in ${own}`;
}
