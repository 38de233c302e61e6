import { cpus, totalmem } from "node:os";

/** Helpers the agent benchmarks share: the machine line, a plain-text table, sizes. */

export const MiB = 1024 * 1024;

export function machineLine(): string {
  const model = cpus()[0]?.model.trim() ?? "unknown cpu";
  return `machine: ${cpus().length} cores (${model}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, node ${process.version}, ${process.platform}/${process.arch}`;
}

/** Left-aligned columns, a header rule; enough for a terminal and for pasting into Markdown. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  console.log(line(header));
  console.log(`| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`);
  for (const row of rows) console.log(line(row));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Makes `cleanup` run once however the benchmark ends: normally, by an error,
 * or interrupted (Ctrl-C, SIGTERM, SIGHUP; then it exits with 130 once the
 * cleanup is done). A benchmark must never leave processes or cgroups behind.
 * Returns the cleanup to call (every caller awaits the same run) and whether
 * an interrupt came, so the main flow can leave the exit to the handler.
 */
export function guardCleanup(cleanup: () => Promise<void>): {
  cleanup: () => Promise<void>;
  interrupted: () => boolean;
} {
  let running: Promise<void> | null = null;
  let interrupted = false;
  const once = () => {
    running ??= cleanup();
    return running;
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`\n${signal}: cleaning up`);
      void once().finally(() => process.exit(130));
    });
  }
  return { cleanup: once, interrupted: () => interrupted };
}

/** Never settles: the interrupt handler exits once its cleanup is done. */
export const waitForInterruptExit = () =>
  new Promise<never>(() => {
    setInterval(() => {}, 60_000);
  });
