import { AgentState } from "../../protocol/job-status.ts";
import { formatLabels, hasLabels } from "./labels.ts";
import { NO_AGENTS, noLabelsReason, tooBigReason } from "./reasons.ts";
import type { PlacementAgent, PlacementJob } from "./types.ts";

/**
 * For submit: can any registered agent that is not lost ever run this job (a draining one may come
 * back)? If not, why, e.g. "needs 300.0 GiB but the largest host with arch=aarch64 offers 238.0 GiB".
 * A job refused here would otherwise wait forever.
 */
export function whyNeverRunnable(
  job: Pick<PlacementJob, "reservationBytes" | "labels">,
  agents: readonly PlacementAgent[],
): string | null {
  const registered = agents.filter((agent) => agent.state !== AgentState.lost);
  if (registered.length === 0) {
    return agents.length === 0 ? NO_AGENTS : `all ${agents.length} agents that joined the farm are lost`;
  }
  const matching = registered.filter((agent) => hasLabels(agent.labels, job.labels));
  if (matching.length === 0) {
    const lost = agents.some((agent) => hasLabels(agent.labels, job.labels));
    return lost ? `every agent with ${formatLabels(job.labels)} is lost` : noLabelsReason(job.labels);
  }
  const largest = Math.max(...matching.map((agent) => agent.capacityBytes));
  return largest < job.reservationBytes ? tooBigReason(job.reservationBytes, largest, job.labels) : null;
}
