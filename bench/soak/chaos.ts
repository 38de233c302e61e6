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
  /** The same moment as a wall-clock time (ms since the epoch), to compare with the API's times. */
  killedAtEpochMs: number;
  /** An agent kept down past --lost-after, so the coordinator has to notice it is gone by itself. */
  longOutage: boolean;
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
  /** Starts the coordinator again on its data (and, when embedded, its nats-server's port). */
  startCoordinator: () => Promise<void>;
  /**
   * The coordinator's own (embedded) nats-server, when it has one: kills it with SIGKILL and
   * resolves once the coordinator has started it again by itself.
   */
  killEmbeddedNats: (() => Promise<void>) | null;
}

/** How long an agent stays down in a long outage: past the product's --lost-after (8 s). */
const LONG_OUTAGE_MS: [number, number] = [10_000, 12_000];

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
  const longOutage = victim === "agent" && random() < 0.5;
  const downtimeMs = longOutage ? between(random, ...LONG_OUTAGE_MS) : between(random, 500, 3000);
  const pause = () => new Promise((resolve) => setTimeout(resolve, downtimeMs));
  const killedAtEpochMs = Date.now();
  if (victim === "agent") {
    // An agent killed mid-job, when any runs one: killing an idle agent tests little.
    const busy = parts.agents.filter((agent) => parts.jobsOn(agent).length > 0);
    const name = pick(random, busy.length > 0 ? busy : parts.agents);
    const held = parts.jobsOn(name);
    const killedAtMs = now();
    await farm.killAgent(name);
    await pause();
    await farm.startAgent(name);
    return { victim, which: name, killedAtMs, killedAtEpochMs, longOutage, backAtMs: now(), held };
  }
  if (victim === "coordinator") {
    const killedAtMs = now();
    await farm.killCoordinator();
    await pause();
    await parts.startCoordinator();
    return {
      victim,
      which: "coordinator",
      killedAtMs,
      killedAtEpochMs,
      longOutage,
      backAtMs: now(),
      held: [],
    };
  }
  if (parts.killEmbeddedNats) {
    // Nobody restarts it but the coordinator: the downtime is the supervisor's.
    const killedAtMs = now();
    await parts.killEmbeddedNats();
    return { victim, which: "embedded", killedAtMs, killedAtEpochMs, longOutage, backAtMs: now(), held: [] };
  }
  const node = pick(random, parts.nats);
  const killedAtMs = now();
  await node.kill();
  await pause();
  await node.start();
  return {
    victim,
    which: node.name || String(node.port),
    killedAtMs,
    killedAtEpochMs,
    longOutage,
    backAtMs: now(),
    held: [],
  };
}
