import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { compileAgentConfig } from "../agent/config.ts";
import { AgentDaemon } from "../agent/daemon.ts";
import { compileCoordinatorConfig } from "../coordinator/config.ts";
import { Coordinator } from "../coordinator/coordinator.ts";
import { silentLogger } from "../protocol/logger.ts";
import type { JobResource } from "../protocol/resources.ts";

/**
 * Dispatch latency: from a job's submit (its createdAt) to running (its
 * startedAt, when the coordinator hears the agent started it), with 100 agents
 * on a real nats-server on loopback. Jobs arrive at a steady rate and run a
 * tiny real regrtest (test_bool), so they do not queue behind each other.
 *   npm run build && node dist/bench/dispatch-latency.js [agents] [jobs] [jobs per second]
 */
const AGENTS = Number(process.argv[2] ?? 100);
const JOBS = Number(process.argv[3] ?? 100);
const RATE = Number(process.argv[4] ?? 3);
const PYTHON = "/usr/bin/python3";

const dir = mkdtempSync(join(tmpdir(), "memfarm-bench-dispatch-"));
const coordinator = await Coordinator.start(
  compileCoordinatorConfig({ port: "0", dataDir: join(dir, "data") }, {}),
  silentLogger,
);
const agents: AgentDaemon[] = [];
try {
  for (let index = 0; index < AGENTS; index += 1) {
    const name = `bench-${index}`;
    const agent = new AgentDaemon(
      compileAgentConfig({
        nats: coordinator.natsUrls.join(","),
        creds: await coordinator.natsAuthority.ensureLocalAgent(name),
        name,
        memory: "8G",
        workDir: join(dir, `agent-${index}`),
        limitMode: "watchdog",
      }),
      silentLogger,
    );
    await agent.start();
    agents.push(agent);
  }
  const headers = { "content-type": "application/json", authorization: `Bearer ${coordinator.adminToken}` };
  const ids: number[] = [];
  for (let index = 0; index < JOBS; index += 1) {
    const response = await fetch(`${coordinator.httpUrl}/api/v1/jobs`, {
      method: "POST",
      headers,
      body: JSON.stringify({ suite: "bigmem-smoke", python: PYTHON, tests: ["test_bool"] }),
    });
    if (response.status !== 201)
      throw new Error(`submit failed: ${response.status} ${await response.text()}`);
    ids.push(((await response.json()) as JobResource).id);
    await new Promise((resolve) => setTimeout(resolve, 1000 / RATE));
  }
  const jobs: JobResource[] = [];
  for (const id of ids) {
    for (;;) {
      const job = (await (await fetch(`${coordinator.httpUrl}/api/v1/jobs/${id}`)).json()) as JobResource;
      if (job.finishedAt) {
        jobs.push(job);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const latencies = jobs
    .filter((job) => job.startedAt)
    .map((job) => Date.parse(job.startedAt as string) - Date.parse(job.createdAt))
    .sort((a, b) => a - b);
  const at = (fraction: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(fraction * latencies.length) - 1)] ?? 0;
  const split = (from: (job: JobResource) => string | null, to: (job: JobResource) => string | null) =>
    jobs
      .filter((job) => from(job) && to(job))
      .map((job) => Date.parse(to(job) as string) - Date.parse(from(job) as string))
      .sort((a, b) => a - b);
  const toAssigned = split(
    (job) => job.createdAt,
    (job) => job.attempts[0]?.startedAt ?? null,
  );
  const toRunning = split(
    (job) => job.attempts[0]?.startedAt ?? null,
    (job) => job.startedAt,
  );
  const pick = (values: number[], fraction: number) =>
    values[Math.min(values.length - 1, Math.ceil(fraction * values.length) - 1)] ?? 0;
  const spread = new Set(jobs.map((job) => job.agent)).size;
  console.log(
    `machine: ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, node ${process.version}`,
  );
  console.log(
    `${AGENTS} agents on one nats-server (loopback), ${JOBS} jobs at ${RATE}/s, spread over ${spread} agents`,
  );
  console.log(`submit → running: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${latencies.at(-1)} ms`);
  console.log(`  submit → assigned: p50 ${pick(toAssigned, 0.5)} ms, p99 ${pick(toAssigned, 0.99)} ms`);
  console.log(
    `  assigned → running (agent accepted, reported the start): p50 ${pick(toRunning, 0.5)} ms, p99 ${pick(toRunning, 0.99)} ms`,
  );
  console.log(
    `outcomes: ${JSON.stringify(Object.fromEntries([...new Set(jobs.map((j) => j.status))].map((s) => [s, jobs.filter((j) => j.status === s).length])))}`,
  );
} finally {
  await Promise.all(agents.map((agent) => agent.stop()));
  await coordinator.stop();
  rmSync(dir, { recursive: true, force: true });
}
