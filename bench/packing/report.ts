/** What the scheduling benchmarks print: the machine, then plain-text tables that paste into Markdown. */

export { machineLine, printTable } from "../agent-bench-util.ts";

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function hours(ms: number): string {
  return `${(ms / 3_600_000).toFixed(2)} h`;
}
