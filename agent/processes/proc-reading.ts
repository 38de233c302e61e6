import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { isLive, parseProcStat, readProcStat } from "../../protocol/proc-stat.ts";

/**
 * One process's CPU time and memory, from two small synchronous reads of
 * /proc. This is what pidusage reads on Linux, without its per-call
 * /proc/uptime read and thread-pool round trips, which cost ~6× the sampler's
 * budget on a 50-process tree (docs/agent-benchmarks.md).
 */
export interface ProcReading {
  /** User + system CPU time, in clock ticks. */
  cpuTicks: number;
  rssBytes: number;
}

/** USER_HZ: the unit of /proc/PID/stat's times, 100 on every Linux architecture by ABI. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** The kernel's page size, the unit of /proc/PID/stat's rss (4 KiB on x86_64, 4 or 64 KiB on aarch64). */
const PAGE_SIZE = (() => {
  try {
    return Number(execFileSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).trim()) || 4096;
  } catch {
    return 4096;
  }
})();

/**
 * Reads processes' /proc files over and over, keeping each file open: a
 * /proc/PID file read again from offset 0 shows the process as it is now, so
 * each sample costs one pread per file instead of open, read and close.
 * Lifecycle: reads open lazily; forgetExcept() closes the files of processes
 * no longer sampled; close() closes all.
 */
export class ProcReader {
  private readonly files = new Map<string, { pid: number; fd: number }>();
  private readonly buffer = Buffer.alloc(8192);

  /** CPU time and RSS of one process from /proc/PID/stat; null if it is gone or a zombie. */
  stat(pid: number): ProcReading | null {
    const text = this.read(pid, "stat");
    const stat = text === null ? null : parseProcStat(text);
    if (!isLive(stat)) return null;
    return { cpuTicks: stat.utimeTicks + stat.stimeTicks, rssBytes: stat.rssPages * PAGE_SIZE };
  }

  /** The kernel's high-water mark of the process's resident set (VmHWM), in bytes. */
  highWaterMark(pid: number): number | null {
    const status = this.read(pid, "status");
    return status === null ? null : statusBytes(status, "VmHWM");
  }

  forgetExcept(pids: number[]): void {
    const keep = new Set(pids);
    for (const [path, file] of [...this.files]) if (!keep.has(file.pid)) this.closeFile(path);
  }

  close(): void {
    for (const path of [...this.files.keys()]) this.closeFile(path);
  }

  private read(pid: number, name: string): string | null {
    const path = `/proc/${pid}/${name}`;
    try {
      let file = this.files.get(path);
      if (file === undefined) {
        file = { pid, fd: openSync(path, "r") };
        this.files.set(path, file);
      }
      const length = readSync(file.fd, this.buffer, 0, this.buffer.length, 0);
      if (length === 0) throw new Error("gone");
      return this.buffer.toString("latin1", 0, length);
    } catch {
      this.closeFile(path); // the process ended (ESRCH)
      return null;
    }
  }

  private closeFile(path: string): void {
    const file = this.files.get(path);
    this.files.delete(path);
    if (file === undefined) return;
    try {
      closeSync(file.fd);
    } catch {
      // Already closed.
    }
  }
}

/** `VmRSS` and `VmHWM` of a process from /proc/PID/status, in bytes: one read, no `ps`. */
export function memoryOf(pid: number): { rss: number; hwm: number } | null {
  const status = readStatus(pid);
  if (status === null) return null;
  return { rss: statusBytes(status, "VmRSS") ?? 0, hwm: statusBytes(status, "VmHWM") ?? 0 };
}

/**
 * The kernel's high-water mark of a process's resident memory (`VmHWM`), in
 * bytes. It catches spikes that fall between two samples.
 */
export function peakRssOf(pid: number): number | null {
  const status = readStatus(pid);
  return status === null ? null : statusBytes(status, "VmHWM");
}

function readStatus(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    return null;
  }
}

/** A `Vm...: N kB` line of /proc/PID/status in bytes; null where there is none (kernel threads have no memory lines). */
function statusBytes(status: string, field: "VmRSS" | "VmHWM"): number | null {
  const kib = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1];
  return kib === undefined ? null : Number(kib) * 1024;
}

/**
 * When the process started, in clock ticks since boot; null if there is no such process. A pid
 * and its start time name one process: a pid alone may have been reused by another since.
 */
export function startTimeOf(pid: number): number | null {
  return readProcStat(pid)?.startTicks ?? null;
}
