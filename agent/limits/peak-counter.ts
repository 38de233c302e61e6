import { closeSync, openSync, readSync, statfsSync, writeSync } from "node:fs";
import { join } from "node:path";
import { readNumber, tryWrite } from "./limit-files.ts";

/**
 * A high-water mark of a cgroup's memory that can be started over: the
 * per-test window of a sequential run. Counts every process of the group,
 * children that exited, tmpfs and shared memory.
 */
export interface PeakCounter {
  /** The peak since the last reset (or since the counter was opened); null when unreadable. */
  read(): number | null;
  /** Starts the mark over from the current usage. */
  reset(): void;
  close(): void;
}

/**
 * cgroup v1: any write to memory.max_usage_in_bytes resets the group's mark.
 * The mark is shared with the job's own peak, so `keep` gets each reading
 * before it is reset (CgroupLimit folds it into the job's peak).
 */
export function v1PeakCounter(dir: string, keep: (bytes: number) => void): PeakCounter | null {
  const file = join(dir, "memory.max_usage_in_bytes");
  const before = readNumber(file);
  if (before === null) return null;
  keep(before);
  if (!tryWrite(file, "0")) return null;
  return {
    read: () => readNumber(file),
    reset: () => {
      const mark = readNumber(file);
      if (mark !== null) keep(mark);
      tryWrite(file, "0");
    },
    close: () => {},
  };
}

/**
 * cgroup v2, Linux 6.12+: writing a non-empty string to an open memory.peak
 * resets the mark for later reads through that same fd only
 * (Documentation/admin-guide/cgroup-v2.rst), so the job's own peak (read
 * through its own open) loses nothing. Older kernels refuse the write: null,
 * and the caller falls back to the process tree's marks.
 */
export function v2PeakCounter(dir: string): PeakCounter | null {
  // A plain directory standing in for cgroupfs (the tests' fake v2 tree) would take the write as
  // data and overwrite its memory.peak: only the real cgroup2 filesystem resets.
  if (!onCgroup2(dir)) return null;
  let fd: number;
  try {
    fd = openSync(join(dir, "memory.peak"), "r+");
  } catch {
    return null;
  }
  const reset = (): boolean => {
    try {
      writeSync(fd, "reset\n");
      return true;
    } catch {
      return false;
    }
  };
  if (!reset()) {
    closeSync(fd);
    return null;
  }
  const buffer = Buffer.alloc(64);
  let closed = false;
  return {
    read: () => {
      if (closed) return null;
      try {
        const text = buffer.toString("utf8", 0, readSync(fd, buffer, 0, buffer.length, 0)).trim();
        return /^\d+$/.test(text) ? Number(text) : null;
      } catch {
        return null;
      }
    },
    reset: () => {
      if (!closed) reset();
    },
    close: () => {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/** CGROUP2_SUPER_MAGIC, statfs(2)'s f_type of the cgroup v2 filesystem. */
const CGROUP2_SUPER_MAGIC = 0x63677270;

export function onCgroup2(dir: string): boolean {
  try {
    return statfsSync(dir).type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}
