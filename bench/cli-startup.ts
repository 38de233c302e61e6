import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { compileCoordinatorConfig } from "../coordinator/config.ts";
import { Coordinator } from "../coordinator/coordinator.ts";
import { PACKAGE_ROOT } from "../coordinator/paths.ts";
import { silentLogger } from "../protocol/logger.ts";
import type { JobResource } from "../protocol/resources.ts";

/**
 * CLI start-up: how long `memfarm --help`, `memfarm jobs` and `memfarm show N` take, against a
 * running coordinator, next to bare `node -e 0`. The commands run interleaved (one of each per
 * round), so a noisy moment on the machine hits them all alike; medians and ratios to bare node.
 *   npm run build && node dist/bench/cli-startup.js [rounds] [cli main.js, default this build's]
 * (another build's main.js, e.g. of an older commit, measures that CLI against this coordinator).
 */
const ROUNDS = Number(process.argv[2] ?? 20);
const CLI = resolve(process.argv[3] ?? join(PACKAGE_ROOT, "dist", "cli", "main.js"));

const dir = mkdtempSync(join(tmpdir(), "memfarm-bench-cli-"));
const coordinator = await Coordinator.start(
  compileCoordinatorConfig({ port: "0", dataDir: join(dir, "data") }, {}),
  silentLogger,
);
try {
  const response = await fetch(`${coordinator.httpUrl}/api/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${coordinator.adminToken}` },
    body: JSON.stringify({ suite: "bigmem-smoke", python: "/usr/bin/python3" }),
  });
  if (response.status !== 201) throw new Error(`submit failed: ${response.status} ${await response.text()}`);
  const job = (await response.json()) as JobResource;
  // The coordinator runs in this process: spawnSync would keep it from answering, so spawn.
  const env = { ...process.env, MEMFARM_URL: coordinator.httpUrl, XDG_CONFIG_HOME: join(dir, "config") };
  const commands: Record<string, string[]> = {
    "node -e 0": ["-e", "0"],
    "memfarm --help": [CLI, "--help"],
    "memfarm jobs": [CLI, "jobs"],
    [`memfarm show ${job.id}`]: [CLI, "show", String(job.id)],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, args] of Object.entries(commands)) {
      const started = performance.now();
      const code = await run(args, env);
      times[name]?.push(performance.now() - started);
      if (code !== 0) throw new Error(`${name} exited ${code}`);
    }
  }
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2
      ? (sorted[middle] ?? 0)
      : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  };
  const bare = median(times["node -e 0"] ?? []);
  console.log(
    `${CLI}: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; ${ROUNDS} rounds`,
  );
  console.log("| command | median ms | min ms | max ms | × node -e 0 |");
  console.log("|---|---:|---:|---:|---:|");
  for (const [name, values] of Object.entries(times)) {
    const m = median(values);
    console.log(
      `| \`${name}\` | ${m.toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} | ${(m / bare).toFixed(2)} |`,
    );
  }
} finally {
  await coordinator.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** Runs node with `args`, output discarded; resolves with its exit code. */
async function run(args: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code));
  });
}
