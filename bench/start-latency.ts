import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { type AgentOptions, compileAgentConfig } from "../agent/config.ts";
import { ProbeCache } from "../agent/cpython/probe-cache.ts";
import { probePython } from "../agent/cpython/python-check.ts";
import { AgentDaemon } from "../agent/daemon.ts";
import { CgroupLimit } from "../agent/limits/cgroup-limit.ts";
import { createJobLimit, type JobLimit, PreparedLimits } from "../agent/limits/index.ts";
import { launchInLimit } from "../agent/limits/launch-in-limit.ts";
import { compileCoordinatorConfig } from "../coordinator/config.ts";
import { Coordinator } from "../coordinator/coordinator.ts";
import { silentLogger } from "../protocol/logger.ts";
import type { JobResource } from "../protocol/resources.ts";
import { guardCleanup, machineLine, printTable, sleep } from "./agent-bench-util.ts";

/**
 * Job start latency, measured where the test process begins: the fake
 * interpreter writes the time (bash's $EPOCHREALTIME, no fork) as its first
 * instruction, and a job counts as started at that stamp, not when the agent
 * accepted it. The agents run as they do in production (cgroup limits where
 * the host has them), twice in the same run: "before" probes the interpreter
 * and makes the cgroup at every job (startAhead false), "after" caches the
 * probe and takes a cgroup made ahead.
 *
 * 1. Where the time goes: each step of a start timed alone, one job at a time.
 * 2. submit → process started, p50/p99, at 1, 10 and 100 agents (one Node
 *    process holds the coordinator and every agent, as dispatch-latency does).
 * 3. A burst of 50 jobs submitted at once: jobs per second from the first
 *    submit to the last job finished (the and Slurm's measure), and to
 *    the last one started.
 *
 * Each farm runs before and after with every agent in this process (comparable with the earlier
 * runs), and after again with the agents in child processes of ten (agent-group.ts), as a farm
 * runs them each on its own host.
 *
 *   npm run build && node dist/bench/start-latency.js [jobs per farm] [jobs per second] [burst] [agents,...] [farms]
 */
const JOBS = Number(process.argv[2] ?? 60);
const RATE = Number(process.argv[3] ?? 5);
const BURST = Number(process.argv[4] ?? 50);
const AGENT_COUNTS = (process.argv[5] ?? "1,10,100").split(",").map(Number);
/**
 * Which farms to run (default all): those whose "placement/variant" (one-process/before,
 * one-process/after, agent-processes/after) contains one of these words; fewer is quicker when
 * profiling (--cpu-prof).
 */
const ONLY = process.argv[6]?.split(",");
const STEP_RUNS = 15;
/** Tuned Slurm 22.05 on the same VM, from issue 18 (Slurm is not installed here to run again). */
const SLURM_BURST_JOBS_PER_S = 2.4;

const dir = mkdtempSync(join(tmpdir(), "memfarm-bench-start-"));
const stamps = join(dir, "stamps");
mkdirSync(stamps);
const python = join(dir, "python");
// The probe goes to the real interpreter, as a real --python's would; a test run stamps first.
writeFileSync(
  python,
  `#!/bin/bash
[ "$1" = "-E" ] && exec /usr/bin/python3 "$@"
printf '%s\\n' "$EPOCHREALTIME" > '${stamps}'/"\${PWD##*/}"
echo "0:00:00 load avg: 0.00 [1/1] test_stamp"
echo "test_stamp passed"
echo "== Tests result: SUCCESS =="
`,
);
chmodSync(python, 0o755);
const jobsDir = join(dir, "jobs");
mkdirSync(jobsDir);
writeFileSync(
  join(jobsDir, "stamp.json"),
  JSON.stringify({
    description: "one fake test that stamps its start",
    args: [],
    workers: 1,
    memlimit: "2G",
    reservation: { perWorker: "100M", overhead: "100M" },
    timeoutSeconds: 60,
  }),
);

let coordinator: Coordinator | null = null;
let agents: AgentDaemon[] = [];
let agentGroups: ChildProcess[] = [];
const { cleanup } = guardCleanup(async () => {
  await stopFarm();
  rmSync(dir, { recursive: true, force: true });
});

type Variant = "before" | "after";
/**
 * Where the agents run: all in this process beside the coordinator (as measured until now, and as
 * dispatch-latency does), or in child processes of at most AGENTS_PER_PROCESS each, nearer a farm,
 * where every agent is a process on its own host: there one agent's spawn, which blocks its
 * thread for milliseconds, holds up neither the coordinator nor the other agents.
 */
type Placement = "one process" | "agent processes";
const AGENTS_PER_PROCESS = 10;
/** Each farm measured: before and after in one process (comparable with earlier runs), after in agent processes. */
const FARMS = (
  [
    ["one process", "before"],
    ["one process", "after"],
    ["agent processes", "after"],
  ] as [Placement, Variant][]
).filter(
  ([placement, variant]) =>
    ONLY?.some((word) => `${placement.replace(" ", "-")}/${variant}`.includes(word)) ?? true,
);

const percentile = (sorted: number[], fraction: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : "-");

/** The stamp of each attempt that ran since the last call, by job id; removes the stamp files. */
function takeStamps(): Map<number, number> {
  const byJob = new Map<number, number>();
  for (const name of readdirSync(stamps)) {
    const jobId = Number(name.split("-")[0]);
    byJob.set(jobId, Number(readFileSync(join(stamps, name), "utf8").trim()) * 1000);
    rmSync(join(stamps, name));
  }
  return byJob;
}

// 1. Each step alone, with the agent's own functions, one start at a time (a gap between).
async function stepTimes(variant: Variant): Promise<Record<string, number>> {
  const cache = new ProbeCache();
  const prepared = new PreparedLimits({ owner: `bench-steps-${variant}`, mode: "auto" });
  await prepared.start();
  const steps: Record<string, number[]> = { probe: [], "work dir": [], cgroup: [], "spawn → stamp": [] };
  try {
    for (let run = 0; run < STEP_RUNS + 1; run += 1) {
      await sleep(150);
      const name = `steps-${variant}-${run}`;
      const t0 = performance.now();
      const probe = variant === "before" ? await probePython(python) : await cache.check(python);
      if (!probe.usable) throw new Error(`the fake interpreter is not usable: ${probe.problem}`);
      const t1 = performance.now();
      const cwd = join(dir, "steps", name);
      mkdirSync(cwd, { recursive: true });
      const t2 = performance.now();
      const request = { name: `attempt-${name}`, limitBytes: 1024 ** 3 };
      const limit: JobLimit =
        variant === "before"
          ? await createJobLimit({ ...request, mode: "auto" })
          : await prepared.create(request);
      const t3 = performance.now();
      const spawnedAt = performance.timeOrigin + performance.now(); // the stamp's clock, to the µs
      const launched = launchInLimit(limit, python, [], { cwd, env: process.env });
      launched.stdout.resume();
      launched.stderr.resume();
      await new Promise((resolve) => launched.child.once("close", resolve));
      const stamp = readStampOf(name);
      await limit.dispose();
      // The first run warms the cache (and the file system): it is not counted.
      if (run === 0) continue;
      steps.probe?.push(t1 - t0);
      steps["work dir"]?.push(t2 - t1);
      steps.cgroup?.push(t3 - t2);
      steps["spawn → stamp"]?.push(stamp - spawnedAt);
    }
  } finally {
    await prepared.dispose();
  }
  return Object.fromEntries(
    Object.entries(steps).map(([step, values]) => [step, percentile(sorted(values), 0.5)]),
  );
}

/**
 * How a launcher joins a v1 group: its pid to cgroup.procs (as it did) against "0" to tasks (now),
 * the same launcher otherwise, into one group, one start at a time; p50 of spawn → stamp.
 */
async function joinTimes(): Promise<Record<string, number> | null> {
  const prepared = new PreparedLimits({ owner: "bench-join", mode: "v1", ahead: 1 });
  await prepared.start();
  if (prepared.readyDirs.length === 0) return null; // no cgroup v1 here
  const limit = await prepared.create({ name: "attempt-bench-join", limitBytes: 1024 ** 3 });
  if (!(limit instanceof CgroupLimit))
    throw new Error(`a v1 group was prepared, yet the limit is ${limit.kind}`);
  const group = limit.dir;
  const ways = {
    "pid → cgroup.procs (before)": ["cgroup.procs", "$$"],
    '"0" → tasks (after)': ["tasks", "0"],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((way) => [way, []]));
  try {
    for (let run = 0; run < STEP_RUNS + 1; run += 1) {
      for (const [way, [file, what]] of Object.entries(ways)) {
        await sleep(150);
        const name = `join-${run}-${file}`;
        const cwd = join(dir, "steps", name);
        mkdirSync(cwd, { recursive: true });
        const fd = openSync(join(group, file as string), "w");
        const spawnedAt = performance.timeOrigin + performance.now();
        const child = spawn(
          "/bin/sh",
          ["-c", `echo ${what} >&3 || exit 125; exec 3>&-; exec "$@"`, "join", python],
          {
            cwd,
            stdio: ["ignore", "ignore", "ignore", fd],
          },
        );
        closeSync(fd);
        await new Promise((resolve) => child.once("close", resolve));
        if (run > 0) times[way]?.push(readStampOf(name) - spawnedAt);
        else readStampOf(name);
      }
    }
  } finally {
    await limit.dispose();
    await prepared.dispose();
  }
  return Object.fromEntries(
    Object.entries(times).map(([way, values]) => [way, percentile(sorted(values), 0.5)]),
  );
}

function readStampOf(name: string): number {
  const file = join(stamps, name);
  const stamp = Number(readFileSync(file, "utf8").trim()) * 1000;
  rmSync(file);
  return stamp;
}

async function startFarm(agentCount: number, variant: Variant, placement: Placement): Promise<void> {
  const farmDir = join(dir, `farm-${agentCount}-${variant}`);
  coordinator = await Coordinator.start(
    compileCoordinatorConfig({ port: "0", dataDir: join(farmDir, "data"), jobsDir }, {}),
    silentLogger,
  );
  const options: AgentOptions[] = [];
  for (let index = 0; index < agentCount; index += 1) {
    const name = `bench-${variant}-${index}`;
    options.push({
      nats: coordinator.natsUrls.join(","),
      creds: await coordinator.natsAuthority.ensureLocalAgent(name),
      name,
      memory: "8G",
      workDir: join(farmDir, `agent-${index}`),
      startAhead: variant === "after",
    });
  }
  if (placement === "one process") {
    for (const option of options) {
      const agent = new AgentDaemon(compileAgentConfig(option), silentLogger);
      await agent.start();
      agents.push(agent);
    }
    return;
  }
  for (let first = 0; first < options.length; first += AGENTS_PER_PROCESS) {
    const file = join(farmDir, `agents-${first}.json`);
    writeFileSync(file, JSON.stringify(options.slice(first, first + AGENTS_PER_PROCESS)));
    agentGroups.push(await startAgentGroup(file));
  }
}

/** A child process running the agents listed in `file` (agent-group.ts); resolves once they have started. */
async function startAgentGroup(file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(import.meta.dirname, "agent-group.js"), file], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ready\n")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`an agent group exited (${code}) before it was ready`)));
  });
  return child;
}

/** Closing its stdin stops a group's agents (as SIGTERM would one agent's); waits for it to exit. */
async function stopAgentGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.stdin?.end();
  await exited;
}

async function stopFarm(): Promise<void> {
  await Promise.all(agents.map((agent) => agent.stop()));
  agents = [];
  await Promise.all(agentGroups.map(stopAgentGroup));
  agentGroups = [];
  await coordinator?.stop();
  coordinator = null;
}

async function submit(): Promise<number> {
  const farm = coordinator as Coordinator;
  const response = await fetch(`${farm.httpUrl}/api/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${farm.adminToken}` },
    // No test names: the coordinator checks them against the real interpreter's list, and the fake runs one anyway.
    body: JSON.stringify({ suite: "stamp", python }),
  });
  if (response.status !== 201) throw new Error(`submit failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as JobResource).id;
}

async function finishedJobs(ids: number[]): Promise<JobResource[]> {
  const farm = coordinator as Coordinator;
  const jobs: JobResource[] = [];
  for (const id of ids) {
    for (;;) {
      const job = (await (await fetch(`${farm.httpUrl}/api/v1/jobs/${id}`)).json()) as JobResource;
      if (job.finishedAt) {
        if (job.status !== "passed") throw new Error(`job ${id} ended ${job.status}: ${job.error}`);
        jobs.push(job);
        break;
      }
      await sleep(100);
    }
  }
  return jobs;
}

interface FarmResult {
  /** submit → the stamp. */
  started: number[];
  /** submit → the coordinator handed the job to an agent (the attempt's startedAt). */
  assigned: number[];
  /** handed over → the stamp: the agent's part, NATS included. */
  agentPart: number[];
  /** submit → the job's startedAt (the agent's "started" report, sent when it accepted). */
  accepted: number[];
  burstToFinished: number;
  burstToStarted: number;
  /** The event loop's delay while the jobs came one by one (every agent and the coordinator share it). */
  loopDelay: { p99: number; max: number };
}

async function measureFarm(agentCount: number, variant: Variant, placement: Placement): Promise<FarmResult> {
  await startFarm(agentCount, variant, placement);
  try {
    // One job first: the coordinator checks a new interpreter on some agents at its first submit.
    await finishedJobs([await submit()]);
    takeStamps();
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const ids: number[] = [];
    for (let index = 0; index < JOBS; index += 1) {
      ids.push(await submit());
      await sleep(1000 / RATE);
    }
    const jobs = await finishedJobs(ids);
    loop.disable();
    const stamped = takeStamps();
    const started = jobs.map((job) => (stamped.get(job.id) ?? Number.NaN) - Date.parse(job.createdAt));
    const accepted = jobs.map((job) => Date.parse(job.startedAt as string) - Date.parse(job.createdAt));
    const handedOver = (job: JobResource) => Date.parse(job.attempts[0]?.startedAt ?? "");
    const assigned = jobs.map((job) => handedOver(job) - Date.parse(job.createdAt));
    const agentPart = jobs.map((job) => (stamped.get(job.id) ?? Number.NaN) - handedOver(job));
    const burstIds = await Promise.all(Array.from({ length: BURST }, () => submit()));
    const burst = await finishedJobs(burstIds);
    const burstStamps = takeStamps();
    const firstSubmit = Math.min(...burst.map((job) => Date.parse(job.createdAt)));
    const lastFinished = Math.max(...burst.map((job) => Date.parse(job.finishedAt as string)));
    const lastStarted = Math.max(...burst.map((job) => burstStamps.get(job.id) ?? Number.NaN));
    return {
      started: sorted(started),
      assigned: sorted(assigned),
      agentPart: sorted(agentPart),
      accepted: sorted(accepted),
      burstToFinished: BURST / ((lastFinished - firstSubmit) / 1000),
      burstToStarted: BURST / ((lastStarted - firstSubmit) / 1000),
      loopDelay: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    };
  } finally {
    await stopFarm();
  }
}

try {
  console.log(machineLine());
  console.log(
    `load average at start: ${loadavg()
      .map((load) => load.toFixed(2))
      .join(" ")}`,
  );
  console.log(`\n1. Where a start's time goes (p50 of ${STEP_RUNS} starts, one at a time, 150 ms apart)\n`);
  const steps = { before: await stepTimes("before"), after: await stepTimes("after") };
  printTable(
    ["step", "before", "after"],
    Object.keys(steps.before).map((step) => [
      step,
      ms(steps.before[step] ?? Number.NaN),
      ms(steps.after[step] ?? Number.NaN),
    ]),
  );

  const joins = await joinTimes();
  if (joins !== null) {
    console.log(
      `\n   Joining a cgroup v1 group before the exec (p50 spawn → stamp, ${STEP_RUNS} starts each)\n`,
    );
    printTable(
      ["launcher writes", "spawn → stamp"],
      Object.entries(joins).map(([way, value]) => [way, ms(value)]),
    );
  }
  console.log(
    `\n2. submit → process started (the stamp), ${JOBS} jobs at ${RATE}/s per farm; "accepted" is the job's startedAt\n`,
  );
  const rows: string[][] = [];
  const bursts: string[][] = [];
  for (const agentCount of AGENT_COUNTS) {
    for (const [placement, variant] of FARMS) {
      const result = await measureFarm(agentCount, variant, placement);
      rows.push([
        String(agentCount),
        placement,
        variant,
        ms(percentile(result.started, 0.5)),
        ms(percentile(result.started, 0.99)),
        ms(result.started.at(-1) ?? Number.NaN),
        `${ms(percentile(result.assigned, 0.5))} / ${ms(percentile(result.assigned, 0.99))}`,
        `${ms(percentile(result.agentPart, 0.5))} / ${ms(percentile(result.agentPart, 0.99))}`,
        ms(percentile(result.accepted, 0.99)),
        `${ms(result.loopDelay.p99)} / ${ms(result.loopDelay.max)}`,
      ]);
      bursts.push([
        String(agentCount),
        placement,
        variant,
        `${result.burstToFinished.toFixed(2)} jobs/s`,
        `${result.burstToStarted.toFixed(2)} jobs/s`,
      ]);
    }
  }
  printTable(
    [
      "agents",
      "agents run in",
      "variant",
      "started p50",
      "started p99",
      "max",
      "→ assigned p50 / p99",
      "assigned → started p50 / p99",
      "accepted p99",
      "loop delay p99 / max",
    ],
    rows,
  );
  console.log(
    `\n3. A burst of ${BURST} jobs submitted at once (tuned Slurm 22.05, issue 18: ${SLURM_BURST_JOBS_PER_S} jobs/s)\n`,
  );
  printTable(
    ["agents", "agents run in", "variant", "first submit → last finished", "first submit → last started"],
    bursts,
  );
  console.log(
    `\nload average at end: ${loadavg()
      .map((load) => load.toFixed(2))
      .join(" ")}`,
  );
} finally {
  await cleanup();
}
