import { type PlacementJob, type PlacementOptions, placeJobs } from "../../coordinator/placement/index.ts";
import type { Host } from "./hosts.ts";
import type { TraceJob } from "./trace.ts";

/** A job the simulated farm started. */
interface Started {
  job: TraceJob;
  host: Host;
  startMs: number;
  endMs: number;
}

export interface SimulationResult {
  makespanMs: number;
  /** Reserved bytes × time over capacity × makespan: how much of what the farm offers was used. */
  meanUtilisation: number;
  /** The same until the last job starts: how well the farm is packed while jobs still wait. */
  backlogUtilisation: number;
  passes: number;
  /** Time spent inside placeJobs, all passes together. */
  placementMs: number;
  /** For each job: when it started (the trace is submitted at time 0). */
  startMs: Map<number, number>;
}

/**
 * A discrete-event simulation of the scheduling loop: at time 0 every job of the trace is queued;
 * at each event (a job ends, or a reservation is due) the farm's state goes through placeJobs and
 * the placed jobs start, ending after their real duration (which may differ from the expected one
 * the scheduler is told). `transform` changes jobs as the scheduler sees them (e.g. every job
 * exclusive: one job per host).
 *
 * The simulator checks the rules itself and throws if placement ever breaks one: a host's running
 * reservations above its capacity, anything beside an exclusive job, or a job never started.
 */
export function simulate(
  hosts: Host[],
  trace: TraceJob[],
  transform: (job: TraceJob) => PlacementJob = (job) => job,
  options: PlacementOptions = {},
): SimulationResult {
  const originMs = Date.UTC(2026, 10, 24, 8, 0);
  let nowMs = originMs;
  let queued = trace.map(transform);
  const byId = new Map(trace.map((job) => [job.id, job]));
  const seen = new Map(queued.map((job) => [job.id, job]));
  let running: Started[] = [];
  const startMs = new Map<number, number>();
  let reservedArea = 0;
  let passes = 0;
  let placementMs = 0;

  while (queued.length > 0 || running.length > 0) {
    running = running.filter((run) => run.endMs > nowMs);
    const input = {
      nowMs,
      agents: hosts.map((host) => ({
        name: host.name,
        state: "online" as const,
        capacityBytes: host.capacityBytes,
        labels: host.labels,
        running: running
          .filter((run) => run.host === host)
          .map((run) => ({
            jobId: run.job.id,
            reservationBytes: run.job.reservationBytes,
            exclusive: seen.get(run.job.id)?.exclusive ?? false,
            expectedEndMs: run.startMs + (seen.get(run.job.id)?.expectedDurationMs ?? 0),
          })),
        blackouts: [],
      })),
      queued,
    };
    const began = performance.now();
    const output = placeJobs(input, options);
    placementMs += performance.now() - began;
    passes += 1;

    for (const { jobId, agent } of output.placements) {
      const job = byId.get(jobId);
      const host = hosts.find((each) => each.name === agent);
      if (!job || !host) throw new Error(`placement names an unknown job ${jobId} or host ${agent}`);
      const exclusive = seen.get(jobId)?.exclusive ?? false;
      const there = running.filter((run) => run.host === host);
      const reserved = there.reduce((sum, run) => sum + run.job.reservationBytes, 0) + job.reservationBytes;
      if (reserved > host.capacityBytes) {
        throw new Error(`overcommit: ${host.name} would reserve ${reserved} of ${host.capacityBytes} bytes`);
      }
      if (there.length > 0 && (exclusive || there.some((run) => seen.get(run.job.id)?.exclusive))) {
        throw new Error(`job ${jobId} would share ${host.name} with an exclusive job`);
      }
      running.push({ job, host, startMs: nowMs, endMs: nowMs + job.durationMs });
      startMs.set(jobId, nowMs - originMs);
    }
    const placed = new Set(output.placements.map((placement) => placement.jobId));
    queued = queued.filter((job) => !placed.has(job.id));

    // Next event: a job ends, or a reservation is due (when estimates are off, a job may be reserved
    // for a moment at which nothing ends).
    let next = Number.POSITIVE_INFINITY;
    for (const run of running) next = Math.min(next, run.endMs);
    for (const held of output.held) {
      if (held.reservation && held.reservation.startMs > nowMs)
        next = Math.min(next, held.reservation.startMs);
    }
    if (!Number.isFinite(next)) {
      throw new Error(`stuck at ${new Date(nowMs).toISOString()}: ${queued.length} jobs can never start`);
    }
    const reservedNow = running.reduce((sum, run) => sum + run.job.reservationBytes, 0);
    reservedArea += reservedNow * (next - nowMs);
    nowMs = next;
    running = running.filter((run) => run.endMs > nowMs);
    if (queued.length === 0 && running.length === 0) break;
  }

  const makespanMs = Math.max(...trace.map((job) => (startMs.get(job.id) ?? 0) + job.durationMs));
  const lastStartMs = Math.max(...startMs.values());
  let backlogArea = 0;
  for (const job of trace) {
    const start = startMs.get(job.id) ?? 0;
    backlogArea += job.reservationBytes * Math.max(0, Math.min(start + job.durationMs, lastStartMs) - start);
  }
  const capacity = hosts.reduce((sum, host) => sum + host.capacityBytes, 0);
  return {
    makespanMs,
    meanUtilisation: reservedArea / (capacity * makespanMs),
    backlogUtilisation: lastStartMs > 0 ? backlogArea / (capacity * lastStartMs) : 1,
    passes,
    placementMs,
    startMs,
  };
}
