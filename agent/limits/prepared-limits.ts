import { readdirSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { CgroupLimit, removeGroup } from "./cgroup-limit.ts";
import { checkedIntervalMs, createJobLimit, jobCgroupRoot, onceOnly } from "./create-job-limit.ts";
import type { JobLimit, JobLimitOptions, LimitMode } from "./job-limit.ts";

/** Two: a second job assigned right after the first still finds one ready. */
const DEFAULT_AHEAD = 2;

export interface PreparedLimitsOptions {
  /** The agent's name: part of the groups' names, so agents sharing a host never take each other's. */
  owner: string;
  mode: LimitMode;
  /** How many empty groups wait for jobs; 0 makes every group when its job arrives. */
  ahead?: number;
  v1Root?: string;
  v2Root?: string;
}

/** What a job asks for: its group's name and its limit (see JobLimitOptions). */
export type LimitRequest = Omit<JobLimitOptions, "mode" | "v1Root" | "v2Root">;

interface EmptyGroup {
  version: "v1" | "v2";
  dir: string;
}

/**
 * Job cgroups made before their jobs arrive, so starting a job only writes
 * its limit into a group that is already there and renames it after the
 * attempt, instead of checking the hierarchy and making a group. cgroup v1
 * only: v2 cannot rename (see makeOne).
 * A few empty groups wait; each one taken is replaced in the background. The
 * empty ones are removed by dispose() (agent stop), and one left by an agent
 * that died is removed when an agent of the same name starts. Where no cgroup
 * can limit memory (or in watchdog mode) nothing is prepared: create() makes
 * the limit as createJobLimit does.
 */
export class PreparedLimits {
  private readonly ready: EmptyGroup[] = [];
  private readonly prefix: string;
  private readonly ahead: number;
  private filling: Promise<void> | null = null;
  /** The cgroup version groups are prepared under, once one worked; null: none can be. */
  private version: "v1" | "v2" | null | undefined;
  private serial = 0;
  private stopped = false;

  constructor(private readonly options: PreparedLimitsOptions) {
    this.prefix = `ready-${options.owner.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64)}-`;
    this.ahead = options.ahead ?? DEFAULT_AHEAD;
    if (options.mode === "watchdog" || this.ahead <= 0) this.version = null;
  }

  /** Removes groups an earlier agent of this name left, then prepares the first ones. */
  async start(): Promise<void> {
    if (this.version === null) return;
    for (const version of this.versionsToTry()) {
      const root = await jobCgroupRoot(version, this.options).catch(() => null);
      if (root !== null) this.removeEmpty(root);
    }
    this.refill();
    await this.filling;
  }

  /** The names of the groups waiting for a job (tests, the benchmark). */
  get readyDirs(): string[] {
    return this.ready.map((group) => group.dir);
  }

  /**
   * The limit for one job: a prepared group with the limit written, else (none
   * ready, none possible, or it could not be set) one made now as
   * createJobLimit makes it. Bad options throw as they do there.
   */
  async create(request: LimitRequest): Promise<JobLimit> {
    const intervalMs = checkedIntervalMs(request);
    const group = this.ready.shift();
    if (group !== undefined) setImmediate(() => this.refill()); // after the job's spawn, not before
    const full: JobLimitOptions = { ...request, mode: this.options.mode };
    if (this.options.v1Root !== undefined) full.v1Root = this.options.v1Root;
    if (this.options.v2Root !== undefined) full.v2Root = this.options.v2Root;
    if (group === undefined) return createJobLimit(full);
    const dir = renamedFor(group, request.name);
    try {
      return CgroupLimit.configure(
        group.version,
        dir,
        request.limitBytes,
        intervalMs,
        onceOnly(request.onOom ?? (() => {})),
      );
    } catch {
      // configure removed the group; a new one made now falls back (or fails) as createJobLimit does.
      return createJobLimit(full);
    }
  }

  /** Removes the groups no job took; waits for one being made. Safe to call twice. */
  async dispose(): Promise<void> {
    this.stopped = true;
    await this.filling;
    this.disposeNow();
  }

  /** dispose() without waiting, for a forced stop: one being made removes itself when done. */
  disposeNow(): void {
    this.stopped = true;
    for (const group of this.ready.splice(0)) removeGroup(group.dir);
  }

  private refill(): void {
    if (this.filling !== null || this.stopped || this.version === null) return;
    this.filling = (async () => {
      while (!this.stopped && this.ready.length < this.ahead) {
        const group = await this.makeOne();
        if (group === null) return;
        if (this.stopped) removeGroup(group.dir);
        else this.ready.push(group);
      }
    })().finally(() => {
      this.filling = null;
    });
  }

  /** One empty group, under the first cgroup version that works here; null when none does. */
  private async makeOne(): Promise<EmptyGroup | null> {
    for (const version of this.versionsToTry()) {
      try {
        const root = await jobCgroupRoot(version, this.options);
        this.serial += 1;
        const dir = await CgroupLimit.makeEmpty(version, root, `${this.prefix}${process.pid}-${this.serial}`);
        if (version === "v2") {
          // Jobs go to v2 here, and v2 cannot rename a group: a job's group must carry its
          // attempt's name (attempt-12-1: what the docs, admins and the arm-host checks find it
          // by). Making one there is quick; the slow part on v1 was joining it, not making it.
          removeGroup(dir);
          this.version = null;
          return null;
        }
        this.version = version;
        return { version, dir };
      } catch {
        // Not usable here: the next version, or no preparing at all (jobs still get createJobLimit's).
      }
    }
    // Forced modes fail the same way at each job, in createJobLimit's words; auto falls back there.
    if (this.version === undefined) this.version = null;
    return null;
  }

  private versionsToTry(): ("v1" | "v2")[] {
    if (this.version) return [this.version];
    const { mode } = this.options;
    return mode === "v1" || mode === "v2" ? [mode] : ["v2", "v1"];
  }

  private removeEmpty(root: string): void {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return;
    }
    // rmdir only: a group that still has processes (EBUSY) stays.
    for (const name of names) if (name.startsWith(this.prefix)) removeGroup(join(root, name));
  }
}

/**
 * The group under the job's own name where the kernel allows renaming a
 * cgroup (v1), so a person reading the hierarchy sees which attempt it is;
 * v2 does not, and the group keeps its prepared name.
 */
function renamedFor(group: EmptyGroup, name: string): string {
  if (group.version !== "v1") return group.dir;
  const target = join(dirname(group.dir), name);
  try {
    renameSync(group.dir, target);
    return target;
  } catch {
    return group.dir;
  }
}
