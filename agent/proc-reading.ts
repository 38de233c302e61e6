import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

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

/** CPU time and RSS of one process from a single read of /proc/PID/stat; null if it is gone or a zombie. */
export function readProc(pid: number): ProcReading | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which may hold spaces and parentheses: state is field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return null;
    return {
      cpuTicks: Number(fields[11]) + Number(fields[12]), // utime (14) + stime (15)
      rssBytes: Number(fields[21]) * PAGE_SIZE, // rss (24), in pages
    };
  } catch {
    return null; // gone between the walk and the read
  }
}

/** `VmRSS` and `VmHWM` of a process from /proc/PID/status, in bytes: one read, no `ps`. */
export function memoryOf(pid: number): { rss: number; hwm: number } | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? 0);
  return { rss: kib("VmRSS") * 1024, hwm: kib("VmHWM") * 1024 };
}
