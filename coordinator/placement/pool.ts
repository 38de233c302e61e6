import { SortedAgents } from "./sorted-agents.ts";
import type { AgentTimeline } from "./timeline.ts";

/** The best agent for a job now, and, if none, the first one with room that a reservation kept it from. */
export interface FitNow {
  fit: AgentTimeline | null;
  blockedBy: AgentTimeline | null;
}

/**
 * The online agents that carry exactly the same labels, indexed so that best fit is a binary search
 * instead of a scan: a job's candidates are the agents with at least its reservation free, in
 * increasing order of free memory. Agents with no reservation ahead accept at once (their use only
 * falls from now on); the walk passes only agents that hold reservations, so its length is bounded
 * by the number of reservations in the pass, not by the number of agents.
 */
export class Pool {
  /** Agents that may start a job now, not running an exclusive job; key: free memory now. */
  private readonly open = new SortedAgents();
  /** Agents that may start a job now with nothing on them; key: capacity (= free memory). */
  private readonly idle = new SortedAgents();
  /** Agents in a blackout window now (they change only by reservations, never by placements). */
  private readonly darkOpen = new SortedAgents();
  private readonly darkIdle = new SortedAgents();
  /** Every member by capacity: where a reservation may go. */
  readonly byCapacity = new SortedAgents();

  constructor(readonly labels: Record<string, string>) {}

  add(agent: AgentTimeline): void {
    this.byCapacity.insert(agent, agent.capacityBytes);
    if (agent.startsNow) this.index(agent);
    else {
      if (!agent.exclusiveNow) this.darkOpen.insert(agent, agent.freeNowBytes);
      if (agent.jobsNow === 0) this.darkIdle.insert(agent, agent.freeNowBytes);
    }
  }

  /** Call before a job is placed on `agent` (a member that starts jobs now), then `changed`. */
  changing(agent: AgentTimeline): void {
    if (!agent.exclusiveNow) this.open.remove(agent, agent.freeNowBytes);
    if (agent.jobsNow === 0) this.idle.remove(agent, agent.freeNowBytes);
  }

  changed(agent: AgentTimeline): void {
    this.index(agent);
  }

  bestNow(bytes: number, durationMs: number, exclusive: boolean): FitNow {
    return walk(exclusive ? this.idle : this.open, bytes, durationMs, exclusive);
  }

  /**
   * The tightest agent that would take the job now but for its blackout window: the window, not
   * memory or a reservation, is what keeps the job waiting there.
   */
  bestDark(bytes: number, durationMs: number, exclusive: boolean): AgentTimeline | null {
    return walk(exclusive ? this.darkIdle : this.darkOpen, bytes, durationMs, exclusive).fit;
  }

  /** The most free memory now on an agent of this pool that may start jobs. */
  mostFreeNow(): number {
    return this.open.at(this.open.length - 1)?.key ?? 0;
  }

  private index(agent: AgentTimeline): void {
    if (!agent.exclusiveNow) this.open.insert(agent, agent.freeNowBytes);
    if (agent.jobsNow === 0) this.idle.insert(agent, agent.freeNowBytes);
  }
}

/**
 * The first agent, in increasing order of free memory from `bytes` up, where the job fits from now
 * for its whole duration. Agents without reservations need no check: their use only falls from now
 * on. So the walk passes only agents holding reservations, and the first of them is returned as
 * what kept the job from the tightest fit.
 */
function walk(list: SortedAgents, bytes: number, durationMs: number, exclusive: boolean): FitNow {
  let blockedBy: AgentTimeline | null = null;
  for (let index = list.firstAtLeast(bytes); index < list.length; index += 1) {
    const agent = list.at(index)?.agent;
    if (!agent) break;
    if (agent.reservations === 0 || agent.fitsFrom(agent.nowMs, durationMs, bytes, exclusive)) {
      return { fit: agent, blockedBy };
    }
    blockedBy ??= agent;
  }
  return { fit: null, blockedBy };
}
