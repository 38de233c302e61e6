import { readFileSync, writeFileSync } from "node:fs";

/** Small readers and writers for /proc and cgroup files, which vanish when their process or group does. */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

export function readNumberFile(path: string): number | null {
  const text = readText(path)?.trim();
  if (text === undefined || text === "" || text === "max") return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** `key value` lines, as in memory.events and memory.oom_control. */
export function readKeyedNumbers(path: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of (readText(path) ?? "").split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) values.set(key, Number(value));
  }
  return values;
}

export function readPids(path: string): number[] {
  return (readText(path) ?? "")
    .split("\n")
    .filter((line) => /^\d+$/.test(line.trim()))
    .map(Number);
}

export function tryWrite(path: string, text: string): boolean {
  try {
    writeFileSync(path, text);
    return true;
  } catch {
    return false;
  }
}

/** Makes the kernel's OOM killer choose this process (and, by inheritance, its children) first. */
export function preferForOomKill(pid: number): void {
  tryWrite(`/proc/${pid}/oom_score_adj`, "1000");
}
