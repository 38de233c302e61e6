import { type FSWatcher, readdirSync, watch } from "node:fs";
import { join } from "node:path";
import { removeGroup } from "../limits/cgroup-limit.ts";
import { readNumber, readText } from "../limits/limit-files.ts";
import { isWorkerGroup } from "../limits/worker-launcher.ts";

/**
 * The peak of each test file under -j, from the cgroup its regrtest worker
 * made for itself (`worker-PID` in the job's group, see worker-launcher.ts).
 * CPython starts one fresh worker per test file, and its command line names
 * the file, so each group is matched to its test as soon as it appears (the
 * directory watch: the worker may be gone when its result line arrives). The
 * peak is read when the result line arrives, then the group is removed.
 */
export class WorkerPeaks {
  /** Test name → the group of the worker that runs it. */
  private readonly groups = new Map<string, string>();
  private readonly looked = new Set<string>();
  /** Groups read but still holding an exiting worker: removed later. */
  private readonly leftover = new Set<string>();
  private watcher: FSWatcher | null = null;

  constructor(private readonly dir: string) {
    try {
      this.watcher = watch(dir, () => this.scan());
      this.watcher.on("error", () => this.watcher?.close());
    } catch {
      this.watcher = null; // the result line's own scan still finds the workers alive then
    }
  }

  /** The peak of the worker that ran `test`; null when its group was not found. */
  peakOf(test: string): number | null {
    this.scan();
    const group = this.groups.get(test);
    if (group === undefined) return null;
    this.groups.delete(test);
    const peak =
      readNumber(join(group, "memory.max_usage_in_bytes")) ?? readNumber(join(group, "memory.peak"));
    if (removeGroup(group) !== null) this.leftover.add(group);
    for (const old of this.leftover) if (removeGroup(old) === null) this.leftover.delete(old);
    // 0: the launcher made the group but could not join it (it said so); the worker ran in the job's group.
    return peak !== null && peak > 0 ? peak : null;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    for (const group of [...this.groups.values(), ...this.leftover]) removeGroup(group);
  }

  private scan(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter(isWorkerGroup);
    } catch {
      return;
    }
    for (const name of names) {
      if (this.looked.has(name)) continue;
      const test = testOfWorker(Number(name.slice("worker-".length)));
      if (test === null) continue; // not exec'd far enough to tell, or gone: looked at again next time
      this.looked.add(name);
      this.groups.set(test, join(this.dir, name));
    }
  }
}

/**
 * The test file a regrtest worker runs, from its command line (the launcher's
 * before its exec, the worker's after: the same arguments):
 * 3.11 `--worker-args '[ns, "test_x"]'`, 3.12 `--worker-json '{"tests": ["test_x"], ...}'`,
 * 3.13+ `-m test.libregrtest.worker '{"tests": ...}'`.
 */
export function testOfWorker(pid: number): string | null {
  const args = (readText(`/proc/${pid}/cmdline`) ?? "").split("\0");
  let json: string | undefined;
  const flag = args.findIndex((arg) => arg === "--worker-args" || arg === "--worker-json");
  if (flag >= 0) json = args[flag + 1];
  else if (args.includes("test.libregrtest.worker")) json = args[args.indexOf("test.libregrtest.worker") + 1];
  if (json === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(json);
    const name = Array.isArray(parsed) ? parsed[1] : (parsed as { tests?: unknown[] } | null)?.tests?.[0];
    return typeof name === "string" ? name : null;
  } catch {
    return null;
  }
}
