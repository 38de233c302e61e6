import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { isLive, parseProcStat, readProcStat } from "../../protocol/proc-stat.ts";

/**
 * One process's CPU time and memory, from two small synchronous reads of
 * /proc. This is what pidusage reads on Linux, without its per-call
 * /proc/uptime read and thread-pool round trips, which cost ~6× the sampler's
 * budget on a 50-process tree (docs/agent-benchmarks.md).
 */
export interface ProcReading {
  /** User + system CPU time, in clock ticks (fractional where read from schedstat's ns). */
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

/** What /proc/PID/clear_refs takes to reset VmHWM. */
const CLEAR_HIGH_WATER_MARK = Buffer.from("5");

/**
 * Reads processes' /proc files over and over, keeping each file open: a
 * /proc/PID file read again from offset 0 shows the process as it is now, so
 * each sample costs one pread per file instead of open, read and close.
 * Lifecycle: reads open lazily; forgetExcept() closes the files of processes
 * no longer sampled; close() closes all.
 */
export class ProcReader {
  /** Open files by pid, then by name: no path string is built for a file already open. */
  private readonly files = new Map<number, Map<ProcFile, number>>();
  private readonly buffer = Buffer.alloc(8192);
  /** Where the last decimalAt stopped. */
  private parsedTo = 0;
  /** Set once a read of schedstat failed for a process that exists: this kernel has none. */
  private noSchedstat = false;

  /**
   * CPU time and RSS of one process from /proc/PID/statm and /proc/PID/schedstat: the kernel
   * formats each in a few µs, against ~17 µs for /proc/PID/stat, the sampler's whole cost at 4 Hz
   * on a 50-process tree (docs/benchmarks/agent-cost.md). schedstat's first field is the time
   * on a CPU (user + system) in ns; a kernel without it (no CONFIG_SCHED_INFO) falls back to stat.
   * Both are parsed from the read's bytes, with no string made: they are read 100 times a sample.
   * Null if the process is gone or a zombie (a zombie's statm is all zeros: it has no memory).
   */
  sample(pid: number): ProcReading | null {
    if (!this.noSchedstat) {
      const statmLength = this.readBytes(pid, "statm");
      if (statmLength < 0) return null;
      const size = this.decimalAt(0, statmLength);
      const residentPages = this.decimalAt(this.parsedTo + 1, statmLength);
      if (!(size > 0) || Number.isNaN(residentPages)) return null;
      const schedstatLength = this.readBytes(pid, "schedstat");
      if (schedstatLength >= 0) {
        const onCpuNanos = this.decimalAt(0, schedstatLength);
        const cpuTicks = (onCpuNanos / 1e9) * CLOCK_TICKS_PER_SECOND;
        return { cpuTicks, rssBytes: residentPages * PAGE_SIZE };
      }
      if (this.readBytes(pid, "statm") < 0) return null; // it ended between the two reads
      this.noSchedstat = true;
    }
    return this.stat(pid);
  }

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

  /**
   * Resets the process's high-water mark to its current RSS (5 to /proc/PID/clear_refs), through
   * a file kept open like the reads; false if it is gone or not ours.
   */
  clearHighWaterMark(pid: number): boolean {
    try {
      return writeSync(this.fdOf(pid, "clear_refs", "w"), CLEAR_HIGH_WATER_MARK, 0, 1, 0) === 1;
    } catch {
      this.closeFile(pid, "clear_refs");
      return false;
    }
  }

  forgetExcept(pids: number[]): void {
    if (this.files.size === 0) return;
    const keep = new Set(pids);
    for (const pid of [...this.files.keys()]) if (!keep.has(pid)) this.forget(pid);
  }

  close(): void {
    for (const pid of [...this.files.keys()]) this.forget(pid);
  }

  private read(pid: number, name: ProcFile): string | null {
    const length = this.readBytes(pid, name);
    return length < 0 ? null : this.buffer.toString("latin1", 0, length);
  }

  /** Reads the file into the buffer from offset 0: its length, or -1 if the process ended. */
  private readBytes(pid: number, name: ProcFile): number {
    try {
      const length = readSync(this.fdOf(pid, name, "r"), this.buffer, 0, this.buffer.length, 0);
      if (length === 0) throw new Error("gone");
      return length;
    } catch {
      this.closeFile(pid, name); // the process ended (ESRCH)
      return -1;
    }
  }

  /** The decimal number at `from` in the buffer (NaN if none there); parsedTo is left after it. */
  private decimalAt(from: number, end: number): number {
    const buffer = this.buffer;
    let value = 0;
    let at = from;
    for (; at < end; at += 1) {
      const digit = (buffer[at] as number) - 48;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
    }
    this.parsedTo = at;
    return at === from ? Number.NaN : value;
  }

  private fdOf(pid: number, name: ProcFile, flags: "r" | "w"): number {
    let open = this.files.get(pid);
    if (open === undefined) {
      open = new Map();
      this.files.set(pid, open);
    }
    let fd = open.get(name);
    if (fd === undefined) {
      fd = openSync(`/proc/${pid}/${name}`, flags);
      open.set(name, fd);
    }
    return fd;
  }

  private closeFile(pid: number, name: ProcFile): void {
    const open = this.files.get(pid);
    const fd = open?.get(name);
    if (open === undefined || fd === undefined) return;
    open.delete(name);
    if (open.size === 0) this.files.delete(pid);
    closeQuietly(fd);
  }

  private forget(pid: number): void {
    const open = this.files.get(pid);
    this.files.delete(pid);
    for (const fd of open?.values() ?? []) closeQuietly(fd);
  }
}

/** The /proc/PID files a ProcReader keeps open. */
type ProcFile = "statm" | "schedstat" | "stat" | "status" | "clear_refs";

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
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

/**
 * A `Vm...: N kB` line of /proc/PID/status in bytes; null where there is none (kernel threads have
 * no memory lines). Found with indexOf, not a RegExp built per call: the sampler reads every
 * process's status once a second.
 */
function statusBytes(status: string, field: "VmRSS" | "VmHWM"): number | null {
  const at = status.indexOf(`\n${field}:`);
  if (at < 0) return null;
  const kib = Number.parseInt(status.slice(at + field.length + 2, status.indexOf("\n", at + 1)), 10);
  return Number.isNaN(kib) ? null : kib * 1024;
}

/**
 * When the process started, in clock ticks since boot; null if there is no such process. A pid
 * and its start time name one process: a pid alone may have been reused by another since.
 */
export function startTimeOf(pid: number): number | null {
  return readProcStat(pid)?.startTicks ?? null;
}
