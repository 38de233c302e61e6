import { mkdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { MemfarmError } from "../../protocol/errors.ts";
import { processExists, signalAll } from "../process-tree.ts";
import type { JobLimit, LimitKind } from "./job-limit.ts";
import { preferForOomKill, readKeyedNumbers, readNumberFile, readPids, tryWrite } from "./proc-files.ts";

/** The files that differ between cgroup v1's memory controller and cgroup v2. */
interface CgroupFlavour {
  kind: LimitKind;
  /** Files written when the group is made, in order; `true` marks the limit itself (must succeed). */
  settings: (limitBytes: number) => [file: string, value: string, required: boolean][];
  peakFile: string;
  oomFile: string;
  oomKeys: string[];
  killFile: string | null;
}

const V2: CgroupFlavour = {
  kind: "cgroup-v2",
  settings: (limit) => [
    ["memory.max", String(limit), true],
    // When one process of the job is OOM-killed, kill them all: a half-dead regrtest helps nobody.
    ["memory.oom.group", "1", false],
    ["memory.swap.max", "0", false],
  ],
  peakFile: "memory.peak",
  oomFile: "memory.events",
  oomKeys: ["oom_kill", "oom_group_kill"],
  killFile: "cgroup.kill",
};

const V1: CgroupFlavour = {
  kind: "cgroup-v1",
  settings: (limit) => [
    ["memory.limit_in_bytes", String(limit), true],
    // Without this, a job could swap past its limit where swap accounting is on.
    ["memory.memsw.limit_in_bytes", String(limit), false],
  ],
  peakFile: "memory.max_usage_in_bytes",
  oomFile: "memory.oom_control",
  oomKeys: ["oom_kill"],
  killFile: null,
};

/** A job's own cgroup: the kernel enforces the limit, counts the peak and the OOM kills. */
class CgroupLimit implements JobLimit {
  readonly kind: LimitKind;
  private disposed = false;

  constructor(
    private readonly dir: string,
    readonly limitBytes: number,
    private readonly flavour: CgroupFlavour,
  ) {
    this.kind = flavour.kind;
  }

  attach(pid: number): void {
    if (!tryWrite(join(this.dir, "cgroup.procs"), String(pid))) {
      throw new MemfarmError("cgroup_attach_failed", `could not move process ${pid} into ${this.dir}`);
    }
    preferForOomKill(pid);
  }

  peakBytes(): number | null {
    return readNumberFile(join(this.dir, this.flavour.peakFile));
  }

  oomKilled(): boolean {
    const counters = readKeyedNumbers(join(this.dir, this.flavour.oomFile));
    return this.flavour.oomKeys.some((key) => (counters.get(key) ?? 0) > 0);
  }

  pids(): number[] {
    return readPids(join(this.dir, "cgroup.procs"));
  }

  async killAll(): Promise<void> {
    if (this.flavour.killFile) tryWrite(join(this.dir, this.flavour.killFile), "1");
    const until = Date.now() + 5000;
    // cgroup.kill may be missing (v1, kernels before 5.14): then SIGKILL each process, as often as it takes.
    for (let alive = this.alive(); alive.length > 0 && Date.now() < until; alive = this.alive()) {
      signalAll(alive, "SIGKILL");
      await sleep(25);
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.killAll();
    for (let tries = 0; tries < 40; tries += 1) {
      try {
        rmdirSync(this.dir);
        return;
      } catch (thrown) {
        if ((thrown as NodeJS.ErrnoException).code === "ENOENT") return;
        await sleep(50); // the last processes are still leaving the group
      }
    }
  }

  private alive(): number[] {
    return this.pids().filter(processExists);
  }
}

/** Makes `parent/name` with the flavour's limit files written; throws if the limit cannot be set. */
export function createCgroupLimit(
  version: "v1" | "v2",
  parent: string,
  name: string,
  limitBytes: number,
): JobLimit {
  const flavour = version === "v2" ? V2 : V1;
  mkdirSync(parent, { recursive: true });
  if (version === "v2") {
    // Children of `parent` can only use the memory controller if `parent` hands it down.
    tryWrite(join(parent, "cgroup.subtree_control"), "+memory");
  }
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, value, required] of flavour.settings(limitBytes)) {
    if (!tryWrite(join(dir, file), value) && required) {
      try {
        rmdirSync(dir);
      } catch {
        // Left for the next start to find; nothing runs in it.
      }
      throw new MemfarmError("cgroup_setup_failed", `could not write ${file} in ${dir}`);
    }
  }
  return new CgroupLimit(dir, limitBytes, flavour);
}
