import { readFileSync, writeFileSync } from "node:fs";

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
  if (text === null) return null;
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
