import type { Priority } from "../../protocol/job-status.ts";
import { formatBytes } from "../../protocol/sizes.ts";
import { DAY_MS } from "./blackout.ts";
import type { LabelFacts } from "./farm.ts";
import { formatLabels } from "./labels.ts";
import type { Reservation } from "./types.ts";

/** The sentences that tell a person why a job waits, and what would let it run. */

export const PRIORITY_RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

/** `14:05 UTC` within a day of now, else `2026-11-26 14:05 UTC`. */
export function formatUtc(timeMs: number, nowMs: number): string {
  const iso = new Date(timeMs).toISOString();
  const clock = `${iso.slice(11, 16)} UTC`;
  return timeMs - nowMs < DAY_MS ? clock : `${iso.slice(0, 10)} ${clock}`;
}

/** formatUtc for one pass: thousands of held jobs share a few dozen times. */
export function clockFor(nowMs: number): (timeMs: number) => string {
  const seen = new Map<number, string>();
  return (timeMs) => {
    let text = seen.get(timeMs);
    if (text === undefined) {
      text = formatUtc(timeMs, nowMs);
      seen.set(timeMs, text);
    }
    return text;
  };
}

function withLabels(labels: Record<string, string>): string {
  return Object.keys(labels).length === 0 ? "" : ` with ${formatLabels(labels)}`;
}

export const NO_AGENTS = "no agent has joined the farm yet";

export function noLabelsReason(labels: Record<string, string>): string {
  return `no agent has the labels ${formatLabels(labels)}`;
}

export function tooBigReason(bytes: number, largestBytes: number, labels: Record<string, string>): string {
  return `needs ${formatBytes(bytes)} but the largest host${withLabels(labels)} offers ${formatBytes(largestBytes)}`;
}

/**
 * Why a job cannot run on any online agent whatever finishes, or null if some online agent is
 * large enough and carries its labels.
 */
export function staticReason(
  bytes: number,
  labels: Record<string, string>,
  facts: LabelFacts,
  agentCount: number,
): string | null {
  if (agentCount === 0) return NO_AGENTS;
  if (facts.matching === 0) return noLabelsReason(labels);
  if (facts.nonLost > 0 && facts.largestNonLost < bytes) {
    return tooBigReason(bytes, facts.largestNonLost, labels);
  }
  if (facts.online === 0) return `every agent${withLabels(labels)} is draining or lost`;
  if (facts.largestOnline < bytes) {
    return (
      `needs ${formatBytes(bytes)}; the online hosts${withLabels(labels)} offer at most ` +
      `${formatBytes(facts.largestOnline)} and the larger ones are draining or lost`
    );
  }
  return null;
}

/** What kept a job that could run from starting now. */
export interface Waiting {
  bytes: number;
  exclusive: boolean;
  priority: Priority;
  /** Formats a time for people (clockFor). */
  at: (timeMs: number) => string;
  /** A job ahead in the queue reserved the memory that is free now. */
  blocker: { jobId: number; priority: Priority; agent: string; startMs: number } | null;
  /** The tightest host with room now is in a blackout window. */
  dark: { agent: string; untilMs: number } | null;
  /** The most free memory now on a matching host that may start jobs. */
  mostFreeBytes: number;
  reservation: Reservation | null;
  /** Whether the pass looked for a reservation (it stops after a bounded number of them). */
  looked: boolean;
  reservationsAhead: number;
}

export function waitingReason(waiting: Waiting): string {
  const { at } = waiting;
  let reason: string;
  if (waiting.blocker) {
    const { jobId, priority, agent, startMs } = waiting.blocker;
    const whose =
      PRIORITY_RANK[priority] < PRIORITY_RANK[waiting.priority] ? "a higher-priority" : "an earlier-queued";
    reason = `waiting behind ${whose} job's reservation (job ${jobId} on ${agent} from ${at(startMs)})`;
  } else if (waiting.dark) {
    reason = `in a blackout window until ${at(waiting.dark.untilMs)} on ${waiting.dark.agent}`;
  } else if (waiting.exclusive) {
    reason = `waiting for a matching host with nothing running (it runs alone and needs ${formatBytes(waiting.bytes)})`;
  } else {
    reason = `waiting for ${formatBytes(waiting.bytes)} of free memory`;
  }
  if (waiting.reservation) {
    return `${reason} (reserved on ${waiting.reservation.agent}, expected to start at ${at(waiting.reservation.startMs)})`;
  }
  if (waiting.looked) return `${reason}; every host that could run it is in a blackout window all day`;
  const most =
    waiting.blocker || waiting.dark || waiting.exclusive
      ? ""
      : `; the most free on a matching host is ${formatBytes(waiting.mostFreeBytes)}`;
  return `${reason}${most} (not reserved yet: ${waiting.reservationsAhead} jobs ahead of it hold reservations)`;
}
