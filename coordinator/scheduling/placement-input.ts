import { expectedDurationMs } from "../jobs/learned-reservation.ts";
import type { PlacementInput } from "../placement/index.ts";
import type { QueuedJob } from "../store/jobs-store.ts";
import type { Store } from "../store/store.ts";

/**
 * The farm as the placement core sees it, read from the store: agents with
 * what runs on them and until when, and the waiting jobs with how long they
 * are expected to run (history, else their time limit).
 */
export function readPlacementInput(store: Store, queued: QueuedJob[], nowMs: number): PlacementInput {
  const durations = new Map<string, number>();
  const expected = (suite: string, memlimitBytes: number | null, timeoutSeconds: number) => {
    const key = `${suite}\0${memlimitBytes}\0${timeoutSeconds}`;
    let duration = durations.get(key);
    if (duration === undefined) {
      duration = expectedDurationMs(timeoutSeconds, store.jobs.pastRuns(suite, memlimitBytes, 20));
      durations.set(key, duration);
    }
    return duration;
  };
  const running = new Map<string, PlacementInput["agents"][number]["running"]>();
  for (const job of store.jobs.active()) {
    const list = running.get(job.agent) ?? [];
    list.push({
      jobId: job.jobId,
      reservationBytes: job.reservationBytes,
      exclusive: job.exclusive,
      expectedEndMs: job.sinceMs + expected(job.suite, job.memlimitBytes, job.timeoutSeconds),
    });
    running.set(job.agent, list);
  }
  return {
    nowMs,
    agents: store.agents.capacities().map((agent) => ({ ...agent, running: running.get(agent.name) ?? [] })),
    queued: queued.map((job) => ({
      id: job.id,
      submittedMs: job.submittedMs,
      priority: job.priority,
      reservationBytes: job.reservationBytes,
      labels: job.labels,
      exclusive: job.exclusive,
      expectedDurationMs: expected(job.suite, job.memlimitBytes, job.timeoutSeconds),
    })),
  };
}
