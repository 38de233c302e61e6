import type { NatsNode } from "../../test/helpers/nats-servers.ts";
import type { ProcessFarm } from "../../test/helpers/process-farm.ts";
import { between, pick } from "../packing/rng.ts";

export type Victim = "agent" | "coordinator" | "nats-server";

/** One SIGKILL and its restart, in milliseconds since the soak started. */
export interface Kill {
  victim: Victim;
  /** Which one: the agent's name, or the nats node's port. */
  which: string;
  killedAtMs: number;
  /** When the killed process was started again and ready (coordinator: dashboard up; agent: joined). */
  backAtMs: number;
  /** Jobs the killed agent was running (their attempts are lost and the jobs requeued). */
  held: number[];
}

export interface ChaosParts {
  farm: ProcessFarm;
  nats: NatsNode[];
  agents: string[];
  random: () => number;
  /** Milliseconds since the soak started. */
  now: () => number;
  /** Jobs an agent runs now, as last seen through the API. */
  jobsOn: (agent: string) => number[];
}

/** How often each victim is picked: agents are the common casualty, the rest rarer. */
const VICTIMS: readonly Victim[] = ["agent", "agent", "coordinator", "nats-server"];

/**
 * Kills one seeded-random part of the farm with SIGKILL, waits a seeded 0.5–3 s (the crash's
 * downtime), and starts the same part again on the same data and port, as an admin or a
 * supervisor would. An agent comes back under its own name and work dir.
 */
export async function killAndRestart(parts: ChaosParts): Promise<Kill> {
  const { farm, random, now } = parts;
  const victim = pick(random, VICTIMS);
  const downtimeMs = between(random, 500, 3000);
  const pause = () => new Promise((resolve) => setTimeout(resolve, downtimeMs));
  if (victim === "agent") {
    // An agent killed mid-job, when any runs one: killing an idle agent tests little.
    const busy = parts.agents.filter((agent) => parts.jobsOn(agent).length > 0);
    const name = pick(random, busy.length > 0 ? busy : parts.agents);
    const held = parts.jobsOn(name);
    const killedAtMs = now();
    await farm.killAgent(name);
    await pause();
    await farm.startAgent(name);
    return { victim, which: name, killedAtMs, backAtMs: now(), held };
  }
  if (victim === "coordinator") {
    const killedAtMs = now();
    await farm.killCoordinator();
    await pause();
    await farm.startCoordinator();
    return { victim, which: "coordinator", killedAtMs, backAtMs: now(), held: [] };
  }
  const node = pick(random, parts.nats);
  const killedAtMs = now();
  await node.kill();
  await pause();
  await node.start();
  return { victim, which: node.name || String(node.port), killedAtMs, backAtMs: now(), held: [] };
}
