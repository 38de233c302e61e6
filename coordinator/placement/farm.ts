import { AgentState } from "../../protocol/job-status.ts";
import { hasLabels, labelKey } from "./labels.ts";
import { Pool } from "./pool.ts";
import { AgentTimeline, type Hold } from "./timeline.ts";
import type { PlacementAgent, PlacementJob } from "./types.ts";

/** What the agents that carry a set of labels could ever offer, whatever is running now. */
export interface LabelFacts {
  /** Agents with the labels, in any state. */
  matching: number;
  nonLost: number;
  largestNonLost: number;
  online: number;
  largestOnline: number;
}

/** The best agent for a job now, or the reservation that kept it from the tightest one with room. */
export interface BestNow {
  fit: AgentTimeline | null;
  blocker: { agent: string; hold: Hold } | null;
}

/**
 * The whole farm during one placement pass: one timeline per agent, the online ones grouped into
 * pools by label set (few: labels describe kinds of hosts, not single hosts), and per label set the
 * facts that say whether a job could ever run. Placements and reservations go through here so the
 * indexes stay right.
 */
export class Farm {
  private readonly pools: Pool[] = [];
  private readonly poolOf = new Map<AgentTimeline, Pool>();
  private readonly poolsByKey = new Map<string, Pool[]>();
  private readonly factsByKey = new Map<string, LabelFacts>();
  /** Each job's labels object asks several times in a pass; computing its key once saves the sorting. */
  private readonly keys = new WeakMap<Record<string, string>, string>();

  constructor(
    private readonly agents: PlacementAgent[],
    readonly nowMs: number,
  ) {
    const byLabels = new Map<string, Pool>();
    for (const agent of agents) {
      if (agent.state !== AgentState.online) continue; // draining and lost agents take nothing new
      const key = labelKey(agent.labels);
      let pool = byLabels.get(key);
      if (!pool) {
        pool = new Pool(agent.labels);
        byLabels.set(key, pool);
        this.pools.push(pool);
      }
      const timeline = new AgentTimeline(agent, nowMs);
      pool.add(timeline);
      this.poolOf.set(timeline, pool);
    }
  }

  get agentCount(): number {
    return this.agents.length;
  }

  factsFor(labels: Record<string, string>): LabelFacts {
    const key = this.keyOf(labels);
    let facts = this.factsByKey.get(key);
    if (facts) return facts;
    facts = { matching: 0, nonLost: 0, largestNonLost: 0, online: 0, largestOnline: 0 };
    for (const agent of this.agents) {
      if (!hasLabels(agent.labels, labels)) continue;
      facts.matching += 1;
      if (agent.state === AgentState.lost) continue;
      facts.nonLost += 1;
      facts.largestNonLost = Math.max(facts.largestNonLost, agent.capacityBytes);
      if (agent.state !== AgentState.online) continue;
      facts.online += 1;
      facts.largestOnline = Math.max(facts.largestOnline, agent.capacityBytes);
    }
    this.factsByKey.set(key, facts);
    return facts;
  }

  /** Best fit now: the least free memory left, ties by name; no reservation may move later. */
  bestNow(job: PlacementJob, durationMs: number): BestNow {
    let fit: AgentTimeline | null = null;
    let blockedBy: AgentTimeline | null = null;
    for (const pool of this.poolsFor(job.labels)) {
      const found = pool.bestNow(job.reservationBytes, durationMs, job.exclusive);
      if (found.fit && (!fit || tighter(found.fit, fit))) fit = found.fit;
      if (found.blockedBy && (!blockedBy || tighter(found.blockedBy, blockedBy))) blockedBy = found.blockedBy;
    }
    if (fit || !blockedBy) return { fit, blocker: null };
    const hold = blockedBy.firstReservationIn(this.nowMs, this.nowMs + durationMs);
    return { fit, blocker: hold ? { agent: blockedBy.name, hold } : null };
  }

  /** The tightest agent that only a blackout window keeps from starting the job now. */
  bestDark(job: PlacementJob, durationMs: number): AgentTimeline | null {
    let best: AgentTimeline | null = null;
    for (const pool of this.poolsFor(job.labels)) {
      const found = pool.bestDark(job.reservationBytes, durationMs, job.exclusive);
      if (found && (!best || tighter(found, best))) best = found;
    }
    return best;
  }

  mostFreeNow(labels: Record<string, string>): number {
    let most = 0;
    for (const pool of this.poolsFor(labels)) most = Math.max(most, pool.mostFreeNow());
    return most;
  }

  /**
   * Where the job can start earliest, given everything running, placed and reserved so far; ties go
   * to the smaller host (best fit), then by name. Costs one sweep of each large-enough agent's steps.
   */
  earliestReservation(
    job: PlacementJob,
    durationMs: number,
  ): { agent: AgentTimeline; startMs: number } | null {
    let best: { agent: AgentTimeline; startMs: number } | null = null;
    for (const pool of this.poolsFor(job.labels)) {
      const members = pool.byCapacity;
      for (let index = members.firstAtLeast(job.reservationBytes); index < members.length; index += 1) {
        const agent = members.at(index)?.agent;
        if (!agent) break;
        const startMs = agent.earliestStart(durationMs, job.reservationBytes, job.exclusive);
        if (!Number.isFinite(startMs)) continue;
        if (!best || startMs < best.startMs || (startMs === best.startMs && tighterHost(agent, best.agent))) {
          best = { agent, startMs };
        }
      }
    }
    return best;
  }

  /** Records the job on the agent from `startMs` (now: placed; later: reserved). */
  hold(agent: AgentTimeline, job: PlacementJob, startMs: number, durationMs: number): void {
    const hold: Hold = {
      jobId: job.id,
      startMs,
      endMs: startMs + durationMs,
      bytes: job.reservationBytes,
      exclusive: job.exclusive,
    };
    const pool = this.poolOf.get(agent);
    const now = startMs <= this.nowMs;
    if (now) pool?.changing(agent);
    agent.add(hold);
    if (now) pool?.changed(agent);
  }

  private keyOf(labels: Record<string, string>): string {
    let key = this.keys.get(labels);
    if (key === undefined) {
      key = labelKey(labels);
      this.keys.set(labels, key);
    }
    return key;
  }

  private poolsFor(labels: Record<string, string>): Pool[] {
    const key = this.keyOf(labels);
    let pools = this.poolsByKey.get(key);
    if (!pools) {
      pools = this.pools.filter((pool) => hasLabels(pool.labels, labels));
      this.poolsByKey.set(key, pools);
    }
    return pools;
  }
}

function tighter(a: AgentTimeline, b: AgentTimeline): boolean {
  return a.freeNowBytes < b.freeNowBytes || (a.freeNowBytes === b.freeNowBytes && a.name < b.name);
}

function tighterHost(a: AgentTimeline, b: AgentTimeline): boolean {
  return a.capacityBytes < b.capacityBytes || (a.capacityBytes === b.capacityBytes && a.name < b.name);
}
