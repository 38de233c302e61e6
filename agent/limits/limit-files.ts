import { closeSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";

/**
 * Small readers and writers for cgroup and /proc files. They return null or
 * false rather than throw: these files vanish when their process or group does,
 * and a reading taken while a job ends must not crash the agent.
 */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** A file holding one number (memory.peak, memory.max_usage_in_bytes); null for `max` or unreadable. */
export function readNumber(path: string): number | null {
  const text = readText(path)?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return null;
  return Number(text);
}

/** `key value` lines, as in memory.events and memory.oom_control. */
export function readCounters(path: string): Map<string, number> | null {
  const text = readText(path);
  return text === null ? null : parseCounters(text);
}

export function parseCounters(text: string): Map<string, number> {
  const counters = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) counters.set(key, Number(value));
  }
  return counters;
}

/** One pid per line, as in cgroup.procs. */
export function readPids(path: string): number[] {
  return (readText(path) ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

/** Writes a control file; false (not a throw) when the kernel refuses or the file is missing. */
export function tryWrite(path: string, text: string): boolean {
  try {
    writeFileSync(path, text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes the kernel's OOM killer choose this process (and its children, which
 * inherit the value) before anything else on the host, the agent included.
 */
export function preferForOomKill(pid: number): void {
  tryWrite(`/proc/${pid}/oom_score_adj`, "1000");
}

/**
 * A control file polled often (memory.oom_control, memory.events), kept open and read again
 * from offset 0: cgroupfs formats a seq file afresh on a read at offset 0, so each poll is one
 * pread instead of open, read and close (readFileSync also stats the file first). A plain file
 * standing in for one (tests) reads its current contents the same way. Null when unreadable;
 * the next read opens it again.
 */
export class PolledFile {
  private fd: number | null = null;
  private readonly buffer = Buffer.alloc(4096);

  constructor(readonly path: string) {}

  read(): string | null {
    try {
      this.fd ??= openSync(this.path, "r");
      const length = readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
      return this.buffer.toString("utf8", 0, length);
    } catch {
      this.close();
      return null;
    }
  }

  /** Before the group's rmdir, so no descriptor outlives the group. */
  close(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // Already closed.
    }
    this.fd = null;
  }
}
