import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../coordinator/paths.ts";

/**
 * Startup benchmark: how long `memfarm up` takes from the command to a ready
 * farm (dashboard answering, local agent registered), and the memory (RSS) of
 * the farm's processes once idle. Runs the built CLI the same way each time:
 *   npm run bench            (or: node dist/bench/run.js [runs])
 */
const CLI = join(PACKAGE_ROOT, "dist", "cli", "main.js");
const RUNS = Number(process.argv[2] ?? 5);

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * 1024;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function oneRun(): Promise<{ readyMs: number; farmRss: number; coordinatorRss: number }> {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-bench-"));
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, "up", "--port", "0", "--data-dir", dir], {
    stdio: ["ignore", "pipe", "pipe"],
    // Its profile goes with the run's dir, not into the home of whoever runs the bench.
    env: { ...process.env, XDG_CONFIG_HOME: join(dir, "config") },
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", () => undefined);
  try {
    let url = "";
    for (;;) {
      url = /Dashboard:\s+(http:\/\/\S+?)\/\n/.exec(output)?.[1] ?? "";
      if (url) {
        const agents = await fetch(`${url}/api/v1/agents`)
          .then((response) => response.json() as Promise<{ agents: { state: string }[] }>)
          .catch(() => ({ agents: [] }));
        if (agents.agents.some((agent) => agent.state === "online")) break;
      }
      if (performance.now() - started > 30_000) throw new Error(`not ready after 30 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const readyMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 2000)); // let it settle before measuring memory
    const pid = child.pid as number;
    const coordinatorRss = rssOf(pid);
    const farmRss = coordinatorRss + childrenOf(pid).reduce((sum, kid) => sum + rssOf(kid), 0);
    return { readyMs, farmRss, coordinatorRss };
  } finally {
    child.kill("SIGINT");
    await new Promise((resolve) => child.once("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const MiB = 1024 * 1024;

const results = [];
for (let run = 0; run < RUNS; run += 1) results.push(await oneRun());
console.log(
  `machine: ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, node ${process.version}`,
);
console.log(`memfarm up → ready (dashboard answers, local agent online), ${RUNS} runs:`);
console.log(
  `  median ${median(results.map((r) => r.readyMs)).toFixed(0)} ms, all: ${results.map((r) => r.readyMs.toFixed(0)).join(", ")} ms`,
);
console.log(
  `  RSS when idle: memfarm process (coordinator + agent) ${(median(results.map((r) => r.coordinatorRss)) / MiB).toFixed(0)} MiB,`,
);
console.log(`  with nats-server ${(median(results.map((r) => r.farmRss)) / MiB).toFixed(0)} MiB`);
