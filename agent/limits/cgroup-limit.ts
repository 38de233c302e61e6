import { existsSync, mkdirSync, readdirSync, rmdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { MemfarmError } from "../../protocol/errors.ts";
import { processExists, signalAll } from "../processes/process-tree.ts";
import { problemWithV1Root, problemWithV2Root } from "./cgroup-support.ts";
import type { JobLimit, LimitKind } from "./job-limit.ts";
import {
  PolledFile,
  parseCounters,
  preferForOomKill,
  readNumber,
  readPids,
  readText,
  tryWrite,
} from "./limit-files.ts";
import { onCgroup2, type PeakCounter, v1PeakCounter, v2PeakCounter } from "./peak-counter.ts";
import { isWorkerGroup } from "./worker-launcher.ts";

/** How a control file is written when the group is made. */
type Need = "required" | "best-effort" | "if-present";

/** What differs between cgroup v2 and cgroup v1's memory controller. */
interface Flavour {
  kind: LimitKind;
  settings: (limitBytes: number) => [file: string, value: string, need: Need][];
  peakFile: string;
  /** A per-test mark of the group (see PeakCounter); `keep` gets readings a reset would erase. */
  peakCounter: (dir: string, keep: (bytes: number) => void) => PeakCounter | null;
  /**
   * Readies `dir` for regrtest workers' groups of their own that count toward its limit; false
   * when it cannot. Returns the leaf the job's own processes join instead of `dir`, if one is needed.
   */
  readyWorkerGroups: (dir: string) => { leaf: string | null } | false;
  /** Polled for the peak when peakFile is missing (v2 before Linux 5.19). */
  currentFile: string;
  /** The file that counts OOM kills, polled (kept open, see PolledFile). */
  oomFile: string;
  /** Whether the kernel killed something for the limit, from oomFile's text. */
  oomKilled: (oomText: string, dir: string) => boolean;
  /** Files that move a process into the group, first that works wins. */
  attachFiles: string[];
  /**
   * The file a launcher writes "0" (itself) to, to join before its exec (see
   * launchInLimit). v1: `tasks`, which moves the writing thread alone; the
   * kernel then skips the global write lock that moving a whole process
   * takes (cgroup_threadgroup_rwsem, whose writer waits for an RCU grace
   * period: 5-15 ms per job start on an idle host). The launcher is a
   * single-threaded shell, so the thread is the whole process, and as its mm's
   * owner it takes its memory charges along. v2 has no such file for a
   * non-threaded group: `cgroup.procs`.
   */
  selfJoinFile: string;
  /** v2 `cgroup.kill` (Linux 5.14+): kills the group at once, forks in flight included. */
  killFile: string | null;
  /** v2 `cgroup.freeze` (Linux 5.2+): stops forks while the pids are killed one by one. */
  freezeFile: string | null;
  /** v1 has no memory.oom.group: the agent kills the rest of the group after an OOM kill itself. */
  killGroupOnOom: boolean;
}

const V2: Flavour = {
  kind: "cgroup-v2",
  settings: (limit) => [
    ["memory.max", String(limit), "required"],
    // One OOM kill takes the whole job: a regrtest missing a worker or its main process helps nobody.
    ["memory.oom.group", "1", "best-effort"],
    // Without this the job could swap past its limit and crawl instead of failing.
    ["memory.swap.max", "0", "if-present"],
  ],
  peakFile: "memory.peak",
  peakCounter: (dir) => v2PeakCounter(dir),
  readyWorkerGroups: readyV2WorkerGroups,
  currentFile: "memory.current",
  oomFile: "memory.events",
  oomKilled: (text) => {
    const events = parseCounters(text);
    return (events.get("oom_kill") ?? 0) > 0 || (events.get("oom_group_kill") ?? 0) > 0;
  },
  attachFiles: ["cgroup.procs"],
  selfJoinFile: "cgroup.procs",
  killFile: "cgroup.kill",
  freezeFile: "cgroup.freeze",
  killGroupOnOom: false,
};

const V1: Flavour = {
  kind: "cgroup-v1",
  settings: (limit) => [
    ["memory.limit_in_bytes", String(limit), "required"],
    // Present only where swap accounting is on; there the job could otherwise swap past its limit.
    ["memory.memsw.limit_in_bytes", String(limit), "if-present"],
  ],
  peakFile: "memory.max_usage_in_bytes",
  peakCounter: v1PeakCounter,
  // Without use_hierarchy a child group's memory would not count toward the job's limit at all.
  readyWorkerGroups: (dir) => readNumber(join(dir, "memory.use_hierarchy")) === 1 && { leaf: null },
  currentFile: "memory.usage_in_bytes",
  oomFile: "memory.oom_control",
  oomKilled: (text, dir) => {
    const control = parseCounters(text);
    const kills = control.get("oom_kill");
    if (kills !== undefined) return kills > 0;
    // Kernels before 4.13 do not count OOM kills; a failed charge is the nearest sign.
    return (readNumber(join(dir, "memory.failcnt")) ?? 0) > 0;
  },
  // `tasks` moves a single thread; right after spawn the process has only one.
  attachFiles: ["cgroup.procs", "tasks"],
  selfJoinFile: "tasks",
  killFile: null,
  freezeFile: null,
  killGroupOnOom: true,
};

const KILL_DEADLINE_MS = 5000;
const RMDIR_DEADLINE_MS = 2000;

/**
 * A job's own cgroup: the kernel enforces the limit and counts the peak and
 * the OOM kills. A poll notices an OOM kill for onOom (one pread of a file kept
 * open) and, where the kernel has no peak counter, tracks the current usage;
 * where it has one, the peak is read when asked and before the group goes:
 * the kernel's mark only grows, and a per-test reset hands its reading over
 * first (openPeakCounter). Readings are kept, so they still answer once the
 * group is removed.
 */
export class CgroupLimit implements JobLimit {
  readonly kind: LimitKind;
  /** Where a launcher writes "0" to move itself in: v1 `tasks`, v2 `cgroup.procs` (see Flavour.selfJoinFile). */
  readonly joinFile: string;
  readonly workerGroupsDir: string | null;
  /** Where the job's own processes are: the group, or its leaf for them (v2 with worker groups). */
  private readonly processDir: string;
  private timer: NodeJS.Timeout | null = null;
  private peakSeen = 0;
  private oomSeen = false;
  private oomReported = false;
  private reacting: Promise<void> | null = null;
  private disposing: Promise<void> | null = null;
  private readonly oomFile: PolledFile;
  /** Whether the kernel keeps a peak here (else the poll tracks the current usage). */
  private readonly hasPeakFile: boolean;

  private constructor(
    readonly dir: string,
    readonly limitBytes: number,
    private readonly flavour: Flavour,
    private readonly intervalMs: number,
    private readonly onOom: () => void,
  ) {
    this.kind = flavour.kind;
    const workerGroups = flavour.readyWorkerGroups(dir);
    this.processDir = (workerGroups ? workerGroups.leaf : null) ?? dir;
    this.joinFile = join(this.processDir, flavour.selfJoinFile);
    this.workerGroupsDir = workerGroups ? dir : null;
    this.oomFile = new PolledFile(join(dir, flavour.oomFile));
    this.hasPeakFile = existsSync(join(dir, flavour.peakFile));
  }

  /**
   * Makes `root/name` with the limit written. Throws (and leaves nothing
   * behind) when the limit cannot be set, so the caller can fall back.
   */
  static async create(
    version: "v1" | "v2",
    root: string,
    name: string,
    limitBytes: number,
    intervalMs: number,
    onOom: () => void,
  ): Promise<CgroupLimit> {
    const dir = await CgroupLimit.makeEmpty(version, root, name);
    return CgroupLimit.configure(version, dir, limitBytes, intervalMs, onOom);
  }

  /**
   * Makes the empty group `root/name`, without a limit yet: the part of
   * create() that can be done before a job arrives (see PreparedLimits).
   * Throws when `root` cannot hold job groups.
   */
  static async makeEmpty(version: "v1" | "v2", root: string, name: string): Promise<string> {
    const problem = version === "v2" ? await problemWithV2Root(root) : await problemWithV1Root(root);
    if (problem !== null) throw new MemfarmError("cgroup_unavailable", `cgroup ${version}: ${problem}`);
    await mkdir(root, { recursive: true });
    if (version === "v2") enableMemoryFor(root);
    const dir = join(root, name);
    await makeGroup(dir);
    return dir;
  }

  /**
   * Writes the limit into the empty group `dir` (made by makeEmpty) and
   * watches it. Throws, and removes the group, when the limit cannot be set.
   */
  static configure(
    version: "v1" | "v2",
    dir: string,
    limitBytes: number,
    intervalMs: number,
    onOom: () => void,
  ): CgroupLimit {
    const flavour = version === "v2" ? V2 : V1;
    for (const [file, value, need] of flavour.settings(limitBytes)) {
      const path = join(dir, file);
      if (need === "if-present" && !existsSync(path)) continue;
      if (!tryWrite(path, value) && need === "required") {
        removeGroup(dir);
        throw new MemfarmError("cgroup_setup_failed", `could not write ${value} to ${path}`);
      }
    }
    return new CgroupLimit(dir, limitBytes, flavour, intervalMs, onOom);
  }

  /** The pid is not needed: the group lists its own processes (pids()). */
  joined(_pid: number): void {
    if (this.disposing !== null) throw new MemfarmError("limit_disposed", `${this.dir} is already removed`);
    this.startPolling();
  }

  attach(pid: number): void {
    if (this.disposing !== null) throw new MemfarmError("limit_disposed", `${this.dir} is already removed`);
    preferForOomKill(pid);
    if (!this.flavour.attachFiles.some((file) => tryWrite(join(this.processDir, file), String(pid)))) {
      throw new MemfarmError("cgroup_attach_failed", `could not move process ${pid} into ${this.processDir}`);
    }
    this.startPolling();
  }

  private startPolling(): void {
    if (this.timer === null) {
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.timer.unref(); // the job's child process keeps the agent busy, not this poll
    }
  }

  peakBytes(): number | null {
    const peak = readNumber(join(this.dir, this.flavour.peakFile));
    const reading = peak ?? readNumber(join(this.dir, this.flavour.currentFile));
    if (reading !== null) this.peakSeen = Math.max(this.peakSeen, reading);
    return this.peakSeen > 0 ? this.peakSeen : null;
  }

  openPeakCounter(): PeakCounter | null {
    return this.flavour.peakCounter(this.dir, (bytes) => {
      this.peakSeen = Math.max(this.peakSeen, bytes);
    });
  }

  oomKilled(): boolean {
    if (this.oomSeen) return true;
    const text = this.oomFile.read();
    if (text !== null && this.flavour.oomKilled(text, this.dir)) this.oomSeen = true;
    return this.oomSeen;
  }

  pids(): number[] {
    return groupsIn(this.dir).flatMap((dir) => readPids(join(dir, "cgroup.procs")));
  }

  async killAll(): Promise<void> {
    const { killFile, freezeFile } = this.flavour;
    const killed = killFile !== null && writeIfPresent(join(this.dir, killFile), "1");
    if (!killed && freezeFile !== null) writeIfPresent(join(this.dir, freezeFile), "1");
    // Also after cgroup.kill: it may be missing, or the tree may only mimic a cgroup (tests).
    const until = Date.now() + KILL_DEADLINE_MS;
    for (;;) {
      const alive = this.pids().filter(processExists);
      if (alive.length === 0 || Date.now() >= until) return;
      signalAll(alive, "SIGKILL");
      await sleep(25);
    }
  }

  dispose(): Promise<void> {
    this.disposing ??= this.teardown();
    return this.disposing;
  }

  private async teardown(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.reacting;
    await this.killAll();
    // The last readings, before the files go with the group.
    this.peakBytes();
    this.oomKilled();
    this.oomFile.close();
    // Workers' groups the run left (a worker killed before the agent removed its group), the leaf.
    for (const group of groupsIn(this.dir).slice(1)) await removeGroupWhenEmpty(group);
    await removeGroupWhenEmpty(this.dir);
  }

  private poll(): void {
    if (!this.hasPeakFile) this.peakBytes();
    if (!this.oomKilled() || this.oomReported) return;
    this.oomReported = true;
    this.reacting = (async () => {
      if (this.flavour.killGroupOnOom) await this.killAll();
      try {
        this.onOom();
      } catch {
        // A failing callback must not stop the limit's cleanup or crash the agent.
      }
    })();
  }
}

/** Lets the job cgroups under `root` use the memory controller (v2 hands controllers down explicitly). */
function enableMemoryFor(root: string): void {
  const control = join(root, "cgroup.subtree_control");
  if ((readText(control) ?? "").split(/\s+/).includes("memory")) return;
  if (!tryWrite(control, "+memory")) {
    throw new MemfarmError("cgroup_setup_failed", `could not enable the memory controller in ${control}`);
  }
}

/**
 * Makes the job's group, fresh. One left by an agent that died (or by another farm on this host
 * that numbers its attempts the same) is made again if empty, never reused: its high-water mark
 * (memory.max_usage_in_bytes, memory.peak) would still hold what ran in it before, and the job
 * would report that as its own peak. A busy one belongs to something else.
 */
async function makeGroup(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (thrown) {
    if ((thrown as NodeJS.ErrnoException).code !== "EEXIST") throw thrown;
    if (groupsIn(dir).some((group) => readPids(join(group, "cgroup.procs")).length > 0)) {
      throw new MemfarmError("cgroup_busy", `${dir} already exists and has processes in it`);
    }
    for (const group of groupsIn(dir).slice(1)) removeGroup(group);
    const problem = removeGroup(dir);
    // ENOTEMPTY: not cgroupfs (whose files go with rmdir) but a plain directory standing in for it,
    // as the tests' fake v2 tree is: nothing was counted there, so it is used as it is.
    if (problem === "ENOTEMPTY") return;
    if (problem !== null) {
      throw new MemfarmError("cgroup_busy", `${dir} already exists and cannot be made again (${problem})`);
    }
    await mkdir(dir);
  }
}

/**
 * The name of the leaf a v2 job group's own processes join when its workers have groups of their
 * own: a v2 group whose cgroup.subtree_control enables memory may hold no processes itself.
 */
const PROCESS_LEAF = "job";

/** v2: the leaf for the job's processes, then memory for its children; false (no worker groups) if either fails. */
function readyV2WorkerGroups(dir: string): { leaf: string } | false {
  // A plain directory standing in for cgroupfs (the tests' fake v2 tree) has no such rules to follow.
  if (!onCgroup2(dir)) return false;
  const leaf = join(dir, PROCESS_LEAF);
  try {
    mkdirSync(leaf);
  } catch (thrown) {
    if ((thrown as NodeJS.ErrnoException).code !== "EEXIST") return false;
  }
  if (tryWrite(join(dir, "cgroup.subtree_control"), "+memory")) return { leaf };
  removeGroup(leaf);
  return false;
}

/** `dir` first, then its process leaf and workers' groups (v2 or v1 -j), which count toward its limit. */
function groupsIn(dir: string): string[] {
  const children = listDir(dir).filter((name) => name === PROCESS_LEAF || isWorkerGroup(name));
  return [dir, ...children.map((name) => join(dir, name))];
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function writeIfPresent(path: string, value: string): boolean {
  return existsSync(path) && tryWrite(path, value);
}

/** rmdir, never a recursive delete: a cgroup's files go with the directory. */
export function removeGroup(dir: string): string | null {
  try {
    rmdirSync(dir);
    return null;
  } catch (thrown) {
    const code = (thrown as NodeJS.ErrnoException).code ?? "unknown";
    return code === "ENOENT" ? null : code;
  }
}

/** Retries while the last processes are still leaving the group (EBUSY); gives up on anything else. */
async function removeGroupWhenEmpty(dir: string): Promise<void> {
  const until = Date.now() + RMDIR_DEADLINE_MS;
  while (removeGroup(dir) === "EBUSY" && Date.now() < until) await sleep(25);
}
