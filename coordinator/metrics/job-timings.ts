import { Counter, Histogram, type Registry } from "prom-client";
import { isFinalStatus } from "../../protocol/job-status.ts";
import type { JobResource } from "../../protocol/resources.ts";
import type { FarmEvents } from "../attempts/farm-events.ts";

/** From seconds to days: a bigmem job queues for seconds and a refleak run takes hours. */
const DURATION_BUCKETS = [1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 43_200, 86_400];
/** From milliseconds to a minute: the time the farm takes to start a job it could start at once. */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Histograms and counters of what jobs go through, fed by the farm's job events (each change of a
 * job's state): how long jobs queued and ran, how long from submit to running, and attempts lost
 * and retried. Labels are the suite and the outcome, never a job id, so their number stays small.
 * They count from this coordinator's start, as Prometheus counters do.
 */
export function watchJobTimings(registry: Registry, events: FarmEvents): () => void {
  const queued = new Histogram({
    name: "memfarm_job_queued_seconds",
    help: "Time from submit to the first attempt's assignment, of jobs that started.",
    labelNames: ["suite"],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const running = new Histogram({
    name: "memfarm_job_running_seconds",
    help: "Time from running to finished, of jobs that ran, by outcome.",
    labelNames: ["suite", "outcome"],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const startLatency = new Histogram({
    name: "memfarm_job_start_latency_seconds",
    help: "Time from submit to running (the test process started), of jobs that started.",
    labelNames: ["suite"],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const lost = new Counter({
    name: "memfarm_attempts_lost_total",
    help: "Attempts whose agent was lost while it held them.",
    labelNames: ["suite"],
    registers: [registry],
  });
  const retried = new Counter({
    name: "memfarm_attempts_retried_total",
    help: "Attempts after a job's first (a retry once an agent was lost or handed the job back).",
    labelNames: ["suite"],
    registers: [registry],
  });

  /** What each unfinished job has shown so far, so each figure is taken once per job and attempt. */
  const seen = new Map<number, { started: boolean; attempts: Set<string>; lost: Set<string> }>();
  return events.on("job", (job) => {
    const known = seen.get(job.id) ?? { started: false, attempts: new Set(), lost: new Set() };
    seen.set(job.id, known);
    for (const attempt of job.attempts) {
      if (!known.attempts.has(attempt.id)) {
        known.attempts.add(attempt.id);
        if (attempt.number > 1) retried.inc({ suite: job.suite });
        else observeQueued(job, attempt.startedAt);
      }
      if (attempt.status === "lost" && !known.lost.has(attempt.id)) {
        known.lost.add(attempt.id);
        lost.inc({ suite: job.suite });
      }
    }
    if (!known.started && job.startedAt !== null) {
      known.started = true;
      startLatency.observe({ suite: job.suite }, secondsBetween(job.createdAt, job.startedAt));
    }
    if (isFinalStatus(job.status)) {
      if (job.startedAt !== null && job.finishedAt !== null)
        running.observe(
          { suite: job.suite, outcome: job.status },
          secondsBetween(job.startedAt, job.finishedAt),
        );
      seen.delete(job.id);
    }
  });

  function observeQueued(job: JobResource, assignedAt: string | null): void {
    if (assignedAt !== null) queued.observe({ suite: job.suite }, secondsBetween(job.createdAt, assignedAt));
  }
}

function secondsBetween(from: string, to: string): number {
  return Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
}
