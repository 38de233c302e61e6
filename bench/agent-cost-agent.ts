import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { compileAgentConfig as CompileAgentConfig } from "../agent/config.ts";
import type { AgentDaemon as Daemon } from "../agent/daemon.ts";
import type { samplerCpuMicrosSoFar as SamplerCpu } from "../agent/processes/sampler-cost.ts";
import type { silentLogger as SilentLogger } from "../protocol/logger.ts";

/**
 * One agent alone in its own Node process, for bench/agent-cost.ts: whatever this process spends
 * is the agent's, not the coordinator's. It loads the agent from a built dist/ directory (argv[3];
 * default the one this file is in), so one run can compare another commit's build with this one.
 *
 *   node dist/bench/agent-cost-agent.js '<agent options as JSON>' [DIST]
 *
 * Commands, one per line on stdin, each answered by one JSON line on stdout:
 *   cpu            {"cpuMicros": user + system of this process so far, "samplerMicros": …}
 *   profile-start  starts the V8 CPU profiler
 *   profile-stop   {"profile": {what: ms of CPU}}: the profile's samples by the agent's part they were in
 *   stop           stops the agent and exits
 * It also stops when its stdin closes, so a benchmark that dies leaves no agent running.
 */
const options = JSON.parse(process.argv[2] ?? "{}") as Parameters<typeof CompileAgentConfig>[0];
const dist = process.argv[3] ?? join(import.meta.dirname, "..");

const { compileAgentConfig } = (await import(join(dist, "agent", "config.js"))) as {
  compileAgentConfig: typeof CompileAgentConfig;
};
const { AgentDaemon } = (await import(join(dist, "agent", "daemon.js"))) as { AgentDaemon: typeof Daemon };
const { silentLogger } = (await import(join(dist, "protocol", "logger.js"))) as {
  silentLogger: typeof SilentLogger;
};
const samplerCpu = await import(join(dist, "agent", "processes", "sampler-cost.js")).then(
  (module: { samplerCpuMicrosSoFar?: typeof SamplerCpu }) => module.samplerCpuMicrosSoFar ?? (() => 0),
  () => () => 0,
);

/** The part of the agent a stack belongs to: its innermost frame that one of these names. */
const PARTS: [string, RegExp][] = [
  ["per-test peak folds (peak-window)", /\/agent\/regrtest\/peak-window\./],
  ["report journal (disk)", /\/agent\/reports\/report-journal\./],
  ["sampler (/proc reads, tree walk)", /\/agent\/processes\//],
  ["reporter + outbox (batching, JSON)", /\/agent\/reports\/|\/protocol\/messages\./],
  ["NATS client (publish, heartbeats)", /@nats-io\//],
  ["regrtest output reading", /\/agent\/regrtest\//],
  ["limit poll (cgroup / watchdog; cgroup.procs)", /\/agent\/limits\//],
  ["coordinator link (heartbeats)", /\/agent\/link\//],
];

const agent = new AgentDaemon(compileAgentConfig(options), silentLogger);
await agent.start();
const session = new Session();
session.connect();

const answer = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await agent.stop();
  process.exit(0);
}

answer({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const command = line.trim();
  if (command === "cpu") {
    const cpu = process.cpuUsage();
    answer({ cpuMicros: cpu.user + cpu.system, samplerMicros: samplerCpu() });
  } else if (command === "profile-start") {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 500 });
    await session.post("Profiler.start");
    answer({ profiling: true });
  } else if (command === "profile-stop") {
    const { profile } = await session.post("Profiler.stop");
    answer({ profile: byPart(profile) });
  } else if (command === "stop") {
    break;
  } else {
    answer({ error: `unknown command ${JSON.stringify(command)}` });
  }
}
await stop();

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

function byPart(profile: {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}): Record<string, number> {
  const parent = new Map<number, number>();
  const nodes = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    nodes.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  // A stack's part is the first of PARTS that any of its frames is in (a fold's /proc reads are
  // the fold's, a journal write under the outbox is the journal's).
  const rank = new Map<number, number>();
  const rankOf = (id: number): number => {
    const known = rank.get(id);
    if (known !== undefined) return known;
    const frame = nodes.get(id)?.callFrame;
    const own = PARTS.findIndex(([, pattern]) => pattern.test(frame?.url ?? ""));
    const up = parent.get(id);
    const above = up === undefined ? PARTS.length : rankOf(up);
    const value = Math.min(own < 0 ? PARTS.length : own, above);
    rank.set(id, value);
    return value;
  };
  const classify = (id: number): string => {
    const name = nodes.get(id)?.callFrame.functionName;
    if (name === "(idle)") return "(idle)";
    if (name === "(garbage collector)") return "garbage collection";
    return PARTS[rankOf(id)]?.[0] ?? "other (Node, timers, runtime)";
  };
  const totals: Record<string, number> = {};
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Each sample's time is the delta to the next one.
  for (let index = 0; index < samples.length; index += 1) {
    const part = classify(samples[index] as number);
    if (part === "(idle)") continue;
    totals[part] = (totals[part] ?? 0) + (deltas[index + 1] ?? 0) / 1000;
  }
  return totals;
}
