import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { compileCoordinatorConfig } from "../coordinator/config.ts";
import { Coordinator } from "../coordinator/coordinator.ts";
import { silentLogger } from "../protocol/logger.ts";
import type { JobResource } from "../protocol/resources.ts";
import { guardCleanup, machineLine, printTable, sleep } from "./agent-bench-util.ts";

/**
 * The agent's whole cost per job while it samples: a real agent (AgentDaemon, in a Node process of
 * its own, bench/agent-cost-agent.ts) on a real coordinator and nats-server with JetStream, running
 * a job whose fake interpreter holds a 50-process tree (python3 + 49 × sleep) and prints a
 * regrtest-like progress line every 2 s. The agent samples at 4 Hz (the issue's rate) with its
 * per-sample journal writes, JetStream publishes, per-test peak folds, output reading and the
 * job's memory limit (cgroup where the host has one). Its CPU (user + system, from its own
 * process.cpuUsage()) over SECONDS of an idle agent and SECONDS of the job; "per job" is the
 * difference. Then a shorter profiled window (V8's CPU profiler; it adds its own cost, so it only
 * splits, it does not measure the total) breaks the job's CPU down by the agent's parts.
 *
 *   npm run build && node dist/bench/agent-cost.js [SECONDS] [--before DIST] [--rounds N] [--interval MS]
 *
 * --before DIST also runs the agent built in DIST (another commit's dist/, e.g. the base branch's),
 * in the same run, against the same coordinator: rounds alternate before and after, so the noise
 * of a shared machine falls on both alike. Target: per job under 0.5% of one core.
 */
const args = process.argv.slice(2);
const flag = (name: string) => {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined) throw new Error(`${name} needs a value`);
  args.splice(at, 2);
  return value;
};
const beforeDist = flag("--before");
const ROUNDS = Number(flag("--rounds") ?? 1);
const SAMPLE_INTERVAL_MS = Number(flag("--interval") ?? 250);
const SECONDS = Number(args[0] ?? 60);
const PROFILE_SECONDS = Math.max(10, Math.round(SECONDS / 3));
const TREE_SIZE = 50;
const TEST_EVERY_SECONDS = 2;
const afterDist = resolve(import.meta.dirname, "..");
if (!(SECONDS > 0) || !(ROUNDS >= 1) || !(SAMPLE_INTERVAL_MS >= 50)) {
  throw new Error("usage: agent-cost.js [SECONDS > 0] [--before DIST] [--rounds N ≥ 1] [--interval MS ≥ 50]");
}
if (beforeDist !== undefined && !existsSync(join(beforeDist, "agent", "daemon.js"))) {
  throw new Error(`--before ${beforeDist}: no agent/daemon.js there; give a built dist/ directory`);
}

const dir = mkdtempSync(join(tmpdir(), "memfarm-bench-agent-cost-"));
const python = join(dir, "python");
// The probe goes to the real interpreter; a run becomes one python3 that starts 49 sleeps and
// prints a test start and its result every few seconds, as a sequential regrtest does. It exits
// with its whole group when its stdout closes (the agent stopped it, or died).
const TREE_SCRIPT = `
import os, signal, subprocess, sys, time
kids = [subprocess.Popen(["sleep", "900"]) for _ in range(${TREE_SIZE - 1})]
try:
    for n in range(1, 100000):
        print(f"0:00:{n % 60:02d} load avg: 0.00 [{n}/100000] test_hold{n}", flush=True)
        time.sleep(${TEST_EVERY_SECONDS})
        print(f"test_hold{n} passed", flush=True)
finally:
    os.killpg(0, signal.SIGKILL)
`;
writeFileSync(join(dir, "tree.py"), TREE_SCRIPT);
writeFileSync(
  python,
  `#!/bin/bash
[ "$1" = "-E" ] && exec /usr/bin/python3 "$@"
exec /usr/bin/python3 '${join(dir, "tree.py")}'
`,
);
chmodSync(python, 0o755);
const jobsDir = join(dir, "jobs");
mkdirSync(jobsDir);
writeFileSync(
  join(jobsDir, "hold.json"),
  JSON.stringify({
    description: "a 50-process tree that prints a test every few seconds until canceled",
    args: [],
    workers: 1,
    memlimit: "2G",
    reservation: { perWorker: "1G", overhead: "100M" },
    timeoutSeconds: 3600,
  }),
);

let coordinator: Coordinator | null = null;
let agent: AgentProcess | null = null;
const guard = guardCleanup(async () => {
  agent?.kill();
  await coordinator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The agent's Node process and its line-per-command channel. */
class AgentProcess {
  private readonly lines: Interface;
  private readonly waiting: ((value: Record<string, unknown>) => void)[] = [];

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on("line", (line) => this.waiting.shift()?.(JSON.parse(line) as Record<string, unknown>));
    child.stderr.pipe(process.stderr);
  }

  next(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.waiting.push(resolve);
      this.child.once("exit", (code) => reject(new Error(`the agent process exited (code ${code})`)));
    });
  }

  ask(command: string): Promise<Record<string, unknown>> {
    const reply = this.next();
    this.child.stdin.write(`${command}\n`);
    return reply;
  }

  async cpuMicros(): Promise<{ cpu: number; sampler: number }> {
    const reply = await this.ask("cpu");
    return { cpu: reply.cpuMicros as number, sampler: reply.samplerMicros as number };
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin.end("stop\n");
    await exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

const headers = () => ({
  "content-type": "application/json",
  authorization: `Bearer ${coordinator?.adminToken}`,
});
const api = (path: string) => `${coordinator?.httpUrl}/api/v1${path}`;

async function startAgent(name: string, distDir: string): Promise<AgentProcess> {
  if (coordinator === null) throw new Error("no coordinator");
  const options = {
    nats: coordinator.natsUrls.join(","),
    creds: await coordinator.natsAuthority.ensureLocalAgent(name),
    name,
    memory: "8G",
    workDir: join(dir, name),
    sampleIntervalMs: SAMPLE_INTERVAL_MS,
  };
  const child = spawn(
    process.execPath,
    [join(afterDist, "bench", "agent-cost-agent.js"), JSON.stringify(options), distDir],
    {
      stdio: "pipe",
    },
  );
  const started = new AgentProcess(child);
  await started.next(); // {ready}
  return started;
}

async function jobOf(id: number): Promise<JobResource> {
  return (await (await fetch(api(`/jobs/${id}`))).json()) as JobResource;
}

async function waitFor(id: number, done: (job: JobResource) => boolean, what: string): Promise<JobResource> {
  const until = Date.now() + 120_000;
  for (;;) {
    const job = await jobOf(id);
    if (done(job)) return job;
    if (Date.now() > until) throw new Error(`job ${id} did not get ${what} (status ${job.status})`);
    await sleep(200);
  }
}

interface Round {
  variant: string;
  idlePercent: number;
  jobPercent: number;
  samplerPercent: number;
  peakBytes: number | null;
  profile: Record<string, number>;
  profileSeconds: number;
}

async function cpuPercentOver(seconds: number): Promise<{ percent: number; samplerPercent: number }> {
  const target = agent as AgentProcess;
  const before = await target.cpuMicros();
  const started = performance.now();
  await sleep(seconds * 1000);
  const after = await target.cpuMicros();
  const wallMicros = (performance.now() - started) * 1000;
  return {
    percent: ((after.cpu - before.cpu) / wallMicros) * 100,
    samplerPercent: ((after.sampler - before.sampler) / wallMicros) * 100,
  };
}

async function round(variant: string, distDir: string, index: number): Promise<Round> {
  agent = await startAgent(`bench-${variant}-${index}`, distDir);
  await sleep(3000); // connected, first heartbeat sent
  const idle = await cpuPercentOver(SECONDS);
  const response = await fetch(api("/jobs"), {
    method: "POST",
    headers: headers(),
    body: JSON.stringify({ suite: "hold", python }),
  });
  if (response.status !== 201) throw new Error(`submit failed: ${response.status} ${await response.text()}`);
  const { id } = (await response.json()) as JobResource;
  await waitFor(id, (job) => job.status === "running", "running");
  await sleep(3000); // the tree is up and walked
  const busy = await cpuPercentOver(SECONDS);
  await agent.ask("profile-start");
  const profiledFrom = performance.now();
  await sleep(PROFILE_SECONDS * 1000);
  const { profile } = (await agent.ask("profile-stop")) as { profile: Record<string, number> };
  const profileSeconds = (performance.now() - profiledFrom) / 1000;
  const cancel = await fetch(api(`/jobs/${id}/cancel`), { method: "POST", headers: headers() });
  if (cancel.status !== 200) throw new Error(`cancel failed: ${cancel.status} ${await cancel.text()}`);
  const ended = await waitFor(id, (job) => job.finishedAt !== null, "finished");
  await agent.stop();
  agent = null;
  return {
    variant,
    idlePercent: idle.percent,
    jobPercent: busy.percent,
    samplerPercent: busy.samplerPercent - idle.samplerPercent,
    peakBytes: ended.peakRssBytes,
    profile,
    profileSeconds,
  };
}

console.log(machineLine());
coordinator = await Coordinator.start(
  compileCoordinatorConfig({ port: "0", dataDir: join(dir, "data"), jobsDir }, {}),
  silentLogger,
);
const variants: [string, string][] = [
  ...(beforeDist === undefined ? [] : ([["before", resolve(beforeDist)]] as [string, string][])),
  ["after", afterDist],
];
const rounds: Round[] = [];
try {
  for (let index = 0; index < ROUNDS; index += 1) {
    for (const [variant, distDir] of variants) {
      rounds.push(await round(variant, distDir, index));
      console.error(`round ${index + 1} ${variant}: done`);
    }
  }
} finally {
  await guard.cleanup();
}

console.log(
  `agent: own Node process, sampling every ${SAMPLE_INTERVAL_MS} ms a tree of ${TREE_SIZE} processes ` +
    `(a test every ${TEST_EVERY_SECONDS} s); windows of ${SECONDS} s idle and ${SECONDS} s with the job; ` +
    `profiles over ${PROFILE_SECONDS} s`,
);
const pct = (value: number) => `${value.toFixed(2)}%`;
printTable(
  ["agent", "idle agent", "agent with the job", "per job", "of which sampler (own timer)", "job's peak"],
  rounds.map((entry) => [
    entry.variant,
    pct(entry.idlePercent),
    pct(entry.jobPercent),
    `**${pct(entry.jobPercent - entry.idlePercent)}**`,
    pct(entry.samplerPercent),
    entry.peakBytes === null ? "-" : `${(entry.peakBytes / 1024 ** 2).toFixed(1)} MiB`,
  ]),
);
const parts = [...new Set(rounds.flatMap((entry) => Object.keys(entry.profile)))].sort();
console.log(
  "\nwhere the job's CPU goes (V8 profile of the agent's main thread, % of a core; the profiler adds its own):",
);
printTable(
  ["part", ...rounds.map((entry) => entry.variant)],
  [
    ...parts.map((part) => [
      part,
      ...rounds.map((entry) => pct((entry.profile[part] ?? 0) / 10 / entry.profileSeconds)),
    ]),
    [
      "total (main thread)",
      ...rounds.map((entry) =>
        pct(Object.values(entry.profile).reduce((sum, ms) => sum + ms, 0) / 10 / entry.profileSeconds),
      ),
    ],
  ],
);
console.log("target: per job under 0.5% of one core");
