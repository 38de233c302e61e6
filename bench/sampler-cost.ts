import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createJobLimit, type JobLimit } from "../agent/limits/index.ts";
import { SeenProcesses, treeOf } from "../agent/processes/process-tree.ts";
import { TreeSampler } from "../agent/processes/sampler.ts";
import { guardCleanup, MiB, machineLine, printTable, sleep } from "./agent-bench-util.ts";

/**
 * Sampler cost: the CPU of the agent, as % of one core, while it watches a
 * 50-process tree, and the agent's own memory (RSS). Target: under 1% of a
 * core and under 100 MB.
 *
 *   npm run build && node dist/bench/sampler-cost.js [SECONDS] [--json]
 *
 * One Python parent starts 49 `sleep 600` children (50 idle processes in its
 * own process group). Then three windows of SECONDS each (default 20), measured
 * with process.cpuUsage() (user + system, all threads of this process) over
 * wall time:
 *   1. baseline: nothing watches the tree;
 *   2. TreeSampler on the root at 250 ms (4 Hz), as the agent samples a job;
 *   3. the watchdog limit attached to the root at its default 100 ms.
 * "net" is the window's CPU minus the baseline's. Each watcher runs 1 s before
 * its window starts, so one-off start-up work (pidusage's getconf) is left out.
 */

const TREE_SIZE = 50;
const SAMPLE_INTERVAL_MS = 250;
const WATCHDOG_INTERVAL_MS = 100; // WatchdogLimit's default, stated here only to count its polls
const args = process.argv.slice(2);
const json = args.includes("--json");
const seconds = Number(args.find((arg) => /^\d+(\.\d+)?$/.test(arg)) ?? 20);

// The parent exits (and kills its group) when its stdin closes, so even a
// SIGKILLed benchmark leaves nothing behind.
const TREE_SCRIPT = `
import os, signal, subprocess, sys
kids = [subprocess.Popen(["sleep", "600"]) for _ in range(${TREE_SIZE - 1})]
print("ready", flush=True)
sys.stdin.read()
os.killpg(0, signal.SIGKILL)
`;

let tree: ChildProcessWithoutNullStreams | null = null;
let watchdog: JobLimit | null = null;

function killTreeGroup(): void {
  if (tree?.pid === undefined) return;
  try {
    process.kill(-tree.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

async function cleanup(): Promise<void> {
  await watchdog?.dispose();
  killTreeGroup();
}
process.on("exit", killTreeGroup);
const guard = guardCleanup(cleanup);

async function startTree(): Promise<number> {
  const child = spawn("/usr/bin/python3", ["-c", TREE_SCRIPT], { detached: true, stdio: "pipe" });
  tree = child;
  child.stderr.pipe(process.stderr);
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the tree's parent exited early (code ${code})`)));
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ready\n")) resolve();
    });
  });
  const root = child.pid as number;
  const until = Date.now() + 15_000;
  while (treeOf(root).length < TREE_SIZE) {
    if (Date.now() > until) throw new Error(`only ${treeOf(root).length} of ${TREE_SIZE} processes started`);
    await sleep(50);
  }
  return root;
}

interface Window {
  name: string;
  wallMs: number;
  cpuMs: number;
  ticks: number;
  /** False where the ticks are the interval's expected count (the watchdog has no callback to count). */
  ticksCounted: boolean;
  rssBytes: number;
}

async function measure(name: string, ticks: (() => number) | number): Promise<Window> {
  const counted = typeof ticks === "function";
  const ticksBefore = counted ? ticks() : 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - started;
  return {
    name,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    ticks: counted ? ticks() - ticksBefore : Math.round(wallMs / ticks),
    ticksCounted: counted,
    rssBytes: process.memoryUsage().rss,
  };
}

console.log(machineLine());
const root = await startTree();
const pidsInTree = treeOf(root).length;
await sleep(2000); // let the tree and this process settle

const windows: Window[] = [];
windows.push(await measure("baseline (nothing watching)", () => 0));

let samples = 0;
let lastProcesses = 0;
const sampler = new TreeSampler(new SeenProcesses(), root, SAMPLE_INTERVAL_MS, (sample) => {
  samples += 1;
  lastProcesses = sample.processes;
});
sampler.start();
await sleep(1000);
windows.push(await measure(`TreeSampler, ${SAMPLE_INTERVAL_MS} ms`, () => samples));
await sampler.stop();
await sleep(1000); // the last pidusage reads finish outside the next window

watchdog = await createJobLimit({
  name: `bench-sampler-cost-${process.pid}`,
  limitBytes: 64 * 1024 * MiB,
  mode: "watchdog",
});
watchdog.attach(root);
await sleep(1000);
windows.push(await measure(`watchdog limit, ${WATCHDOG_INTERVAL_MS} ms`, WATCHDOG_INTERVAL_MS));
const watchdogPeak = watchdog.peakBytes();
const memory = process.memoryUsage();
const maxRssBytes = process.resourceUsage().maxRSS * 1024;
await guard.cleanup();

const [baseline] = windows;
const percent = (window: Window) => (window.cpuMs / window.wallMs) * 100;
console.log(
  `tree: ${pidsInTree} processes (python3 + ${TREE_SIZE - 1} × sleep), last sample saw ${lastProcesses}; ` +
    `watchdog saw ${((watchdogPeak ?? 0) / MiB).toFixed(0)} MiB peak; windows of ${seconds} s`,
);
printTable(
  ["what", "ticks", "CPU raw (% of a core)", "CPU net (% of a core)", "CPU per tick", "RSS at end"],
  windows.map((window) => {
    const net = window === baseline || !baseline ? null : percent(window) - percent(baseline);
    const netMs = net === null ? null : (net / 100) * window.wallMs;
    return [
      window.name,
      window.ticks === 0 ? "-" : `${window.ticksCounted ? "" : "≈"}${window.ticks}`,
      `${percent(window).toFixed(2)}%`,
      net === null ? "-" : `${net.toFixed(2)}%`,
      netMs === null || window.ticks === 0 ? "-" : `${(netMs / window.ticks).toFixed(2)} ms`,
      `${(window.rssBytes / MiB).toFixed(1)} MiB`,
    ];
  }),
);
console.log(
  `this process at the end: RSS ${(memory.rss / MiB).toFixed(1)} MiB, heap used ${(memory.heapUsed / MiB).toFixed(1)} MiB, ` +
    `max RSS ${(maxRssBytes / MiB).toFixed(1)} MiB`,
);
console.log("targets: net CPU under 1% of one core; RSS under 100 MB (95.4 MiB)");
if (json) {
  console.log(
    JSON.stringify({
      seconds,
      pidsInTree,
      windows: windows.map((window) => ({ ...window, percent: percent(window) })),
      rssBytes: memory.rss,
      maxRssBytes,
    }),
  );
}
