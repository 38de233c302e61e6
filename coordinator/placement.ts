import { AgentState } from "../protocol/job-status.ts";
import { formatBytes } from "../protocol/sizes.ts";
import type { AgentCapacity } from "./store/agents-store.ts";
import type { QueuedJob } from "./store/jobs-store.ts";

export interface PlacementInput {
  /** Waiting jobs, in the order they should be considered (priority, then age). */
  queued: QueuedJob[];
  agents: AgentCapacity[];
  /** Memory already reserved on each agent by its assigned and running jobs. */
  reserved: Map<string, number>;
}

export interface PlacementOutput {
  placements: { jobId: number; agent: string }[];
  /** Why each job that was not placed still waits. */
  held: { jobId: number; reason: string }[];
}

/**
 * Decides which waiting job goes to which agent: a pure function of the
 * farm's state, so it is tested and measured without NATS or SQLite.
 * A job fits an agent that is online, carries all of the job's labels and has
 * the job's reservation free; among those, the one with the least free memory
 * (best fit) keeps big hosts free for big jobs.
 */
export function placeJobs(input: PlacementInput): PlacementOutput {
  const free = new Map<string, number>();
  for (const agent of input.agents) {
    free.set(agent.name, agent.capacityBytes - (input.reserved.get(agent.name) ?? 0));
  }
  const output: PlacementOutput = { placements: [], held: [] };
  for (const job of input.queued) {
    const matching = input.agents.filter((agent) => hasLabels(agent, job.labels));
    const online = matching.filter((agent) => agent.state === AgentState.online);
    let best: AgentCapacity | null = null;
    for (const agent of online) {
      const room = free.get(agent.name) ?? 0;
      if (room >= job.reservationBytes && (best === null || room < (free.get(best.name) ?? 0))) best = agent;
    }
    if (best) {
      free.set(best.name, (free.get(best.name) ?? 0) - job.reservationBytes);
      output.placements.push({ jobId: job.id, agent: best.name });
    } else {
      output.held.push({ jobId: job.id, reason: whyHeld(job, input.agents, matching, online, free) });
    }
  }
  return output;
}

function hasLabels(agent: AgentCapacity, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, value]) => agent.labels[key] === value);
}

function whyHeld(
  job: QueuedJob,
  all: AgentCapacity[],
  matching: AgentCapacity[],
  online: AgentCapacity[],
  free: Map<string, number>,
): string {
  const need = formatBytes(job.reservationBytes);
  const labels = Object.entries(job.labels).map(([key, value]) => `${key}=${value}`);
  if (all.length === 0) return "no agent has joined the farm yet";
  if (matching.length === 0) return `no agent has the labels ${labels.join(", ")}`;
  const usable = matching.filter((agent) => agent.state !== AgentState.lost);
  const largest = Math.max(...usable.map((agent) => agent.capacityBytes), 0);
  if (usable.length > 0 && largest < job.reservationBytes) {
    return `needs ${need} but the largest matching host offers ${formatBytes(largest)}`;
  }
  if (online.length === 0) return "no matching agent is online (all are draining or lost)";
  const most = Math.max(...online.map((agent) => free.get(agent.name) ?? 0));
  return `waiting for ${need} of free memory; the most free on a matching host is ${formatBytes(Math.max(0, most))}`;
}
