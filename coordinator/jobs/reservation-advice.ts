import { AgentState } from "../../protocol/job-status.ts";
import { formatBytes, MIN_MEMLIMIT_BYTES } from "../../protocol/sizes.ts";
import { hasLabels } from "../placement/labels.ts";
import { perWorkerBytes, reservationFor, type Suite } from "./suites.ts";

const GiB = 1024 ** 3;

export interface AgentCapacityFacts {
  name: string;
  state: AgentState;
  capacityBytes: number;
  labels: Record<string, string>;
}

/**
 * What a person can change so that a job too big for every agent fits the largest one: fewer
 * workers, else a smaller memlimit (when the reservation follows it), else a bigger agent. Each
 * suggestion is checked against that agent's capacity, so following it gets the job accepted.
 * Null when no agent with the job's labels is registered (the refusal says so already).
 */
export function reservationAdvice(
  job: { suite: Suite; memlimitBytes: number | null; workers: number; labels: Record<string, string> },
  agents: readonly AgentCapacityFacts[],
): string | null {
  const matching = agents.filter(
    (agent) => agent.state !== AgentState.lost && hasLabels(agent.labels, job.labels),
  );
  const largest = matching.sort((a, b) => b.capacityBytes - a.capacityBytes)[0];
  if (!largest) return null;
  // The refusal already says what the largest agent offers; the advice names it.
  const fits = `, which fits ${largest.name}`;
  const perWorker = perWorkerBytes(job.suite, job.memlimitBytes);
  const spare = largest.capacityBytes - job.suite.reservation.overheadBytes;
  const fitting = perWorker > 0 ? Math.floor(spare / perWorker) : job.workers;
  if (fitting >= 1 && fitting < job.workers) {
    const needs = reservationFor(job.suite, job.memlimitBytes, fitting);
    return `ask for fewer workers with --workers ${fitting} (needs ${formatBytes(needs)}${fits})`;
  }
  if (job.suite.reservation.perWorkerBytes === null && job.memlimitBytes !== null) {
    // The reservation follows the memlimit: the biggest whole GiB that fits, if regrtest accepts it.
    const memlimit = Math.floor(spare / job.workers / GiB) * GiB;
    if (memlimit >= MIN_MEMLIMIT_BYTES && memlimit < job.memlimitBytes) {
      const needs = reservationFor(job.suite, memlimit, job.workers);
      return `ask for a smaller memory limit with --memlimit ${memlimit / GiB}G (needs ${formatBytes(needs)}${fits})`;
    }
  }
  const needed = reservationFor(job.suite, job.memlimitBytes, Math.min(job.workers, Math.max(fitting, 1)));
  return `add an agent with at least ${formatBytes(needed)} of capacity (memfarm hosts add); the largest is ${largest.name}`;
}
