import type { Priority } from "../../protocol/job-status.ts";
import { Farm } from "./farm.ts";
import { inQueueOrder } from "./queue-order.ts";
import { clockFor, staticReason, waitingReason } from "./reasons.ts";
import type { PlacementInput, PlacementOptions, PlacementOutput, Reservation } from "./types.ts";

/**
 * How many blocked jobs get a reservation in one pass. Each costs one sweep over the agents that are
 * large enough; past this, jobs still start now when they push no reservation later, and get their
 * own reservation in a later pass as the queue moves.
 */
export const MAX_RESERVATIONS = 100;

/**
 * Decides which waiting jobs start now, and where: a pure function of the farm's state, so it is
 * tested and measured without NATS or SQLite.
 *
 * Jobs are taken in queue order (priority, then age less a bounded credit for size: queue-order.ts).
 * A job starts on an online agent that carries
 * its labels, is outside its blackout windows and has room for its whole expected duration beside
 * everything running there and every reservation made earlier in the pass; among those, the one with
 * the least free memory (best fit), so big hosts stay free for big jobs. A job that cannot start gets
 * a reservation where it can start earliest, and later jobs must fit around it (conservative
 * backfill), so no job behind it in the queue can delay it, as long as jobs end when expected.
 */
export function placeJobs(input: PlacementInput, options: PlacementOptions = {}): PlacementOutput {
  const maxReservations = options.maxReservations ?? MAX_RESERVATIONS;
  const farm = new Farm(input.agents, input.nowMs);
  const queue = inQueueOrder(input.queued, (labels) => farm.factsFor(labels).largestOnline);
  const priorityOf = new Map<number, Priority>(queue.map((job) => [job.id, job.priority]));
  const reservedPriorities = new Set<Priority>();
  let reservations = 0;
  const at = clockFor(input.nowMs);
  const output: PlacementOutput = { placements: [], held: [] };

  for (const job of queue) {
    const never = staticReason(job.reservationBytes, job.labels, farm.factsFor(job.labels), farm.agentCount);
    if (never) {
      output.held.push({ jobId: job.id, reason: never, reservation: null });
      continue;
    }
    // A job with no expected duration still occupies its host for a moment.
    const durationMs = Math.max(1, job.expectedDurationMs);
    const { fit, blocker } = farm.bestNow(job, durationMs);
    if (fit) {
      farm.hold(fit, job, input.nowMs, durationMs);
      output.placements.push({ jobId: job.id, agent: fit.name });
      continue;
    }

    // Always reserve for the first blocked job of each priority, so that even past the bound no
    // priority's head can be starved by the jobs behind it.
    const looked = reservations < maxReservations || !reservedPriorities.has(job.priority);
    let reservation: Reservation | null = null;
    if (looked) {
      const found = farm.earliestReservation(job, durationMs);
      if (found) {
        farm.hold(found.agent, job, found.startMs, durationMs);
        reservations += 1;
        reservedPriorities.add(job.priority);
        reservation = { agent: found.agent.name, startMs: found.startMs };
      }
    }
    const dark = blocker ? null : farm.bestDark(job, durationMs);
    const reason = waitingReason({
      bytes: job.reservationBytes,
      exclusive: job.exclusive,
      priority: job.priority,
      at,
      blocker: blocker && {
        jobId: blocker.hold.jobId,
        priority: priorityOf.get(blocker.hold.jobId) ?? job.priority,
        agent: blocker.agent,
        startMs: blocker.hold.startMs,
      },
      dark: dark && { agent: dark.name, untilMs: dark.nextStartAllowed(input.nowMs) },
      mostFreeBytes: reservation ? 0 : farm.mostFreeNow(job.labels),
      reservation,
      looked,
      reservationsAhead: reservations,
    });
    output.held.push({ jobId: job.id, reason, reservation });
  }
  return output;
}
