import { AgentState } from "../../protocol/job-status.ts";
import { inBlackout, MINUTE_MS, nextStartAllowed } from "./blackout.ts";
import type { PlacementAgent } from "./types.ts";

/**
 * A job still running past its expected end holds its memory, but we cannot know for how long.
 * Planning it to end within a minute keeps the reservation behind it as early as possible, and
 * keeps long jobs from being backfilled into memory it may free at any moment.
 */
export const OVERDUE_GRACE_MS = MINUTE_MS;

/** One job's hold on an agent's memory over [startMs, endMs): running, placed now, or reserved. */
export interface Hold {
  jobId: number;
  startMs: number;
  endMs: number;
  bytes: number;
  exclusive: boolean;
}

/**
 * The agent's use over time as steps: step i covers [times[i], times[i + 1]) (the last one has no
 * end: everything planned has ended by then). Rebuilt only after a hold is added.
 */
interface Steps {
  times: number[];
  used: number[];
  jobs: number[];
  exclusive: number[];
}

/**
 * One agent during a placement pass: what it holds now (running and just placed jobs), what it
 * promised (reservations), and the questions placement asks of it: does a job fit from a time on,
 * for its whole expected duration, and when is the earliest it would.
 */
export class AgentTimeline {
  readonly name: string;
  readonly capacityBytes: number;
  readonly online: boolean;
  /** Online and outside its blackout windows: it may start a job now. */
  readonly startsNow: boolean;
  freeNowBytes: number;
  jobsNow = 0;
  exclusiveNow = false;
  reservations = 0;
  private readonly holds: Hold[] = [];
  private steps: Steps | null = null;

  constructor(
    readonly agent: PlacementAgent,
    readonly nowMs: number,
  ) {
    this.name = agent.name;
    this.capacityBytes = agent.capacityBytes;
    this.online = agent.state === AgentState.online;
    this.startsNow = this.online && !inBlackout(agent.blackouts, nowMs);
    this.freeNowBytes = agent.capacityBytes;
    for (const job of agent.running) {
      const endMs = job.expectedEndMs > nowMs ? job.expectedEndMs : nowMs + OVERDUE_GRACE_MS;
      this.add({
        jobId: job.jobId,
        startMs: nowMs,
        endMs,
        bytes: job.reservationBytes,
        exclusive: job.exclusive,
      });
    }
  }

  /** Records a job placed now (startMs = now) or a reservation (startMs later). */
  add(hold: Hold): void {
    this.holds.push(hold);
    this.steps = null;
    if (hold.startMs <= this.nowMs) {
      this.freeNowBytes -= hold.bytes;
      this.jobsNow += 1;
      this.exclusiveNow ||= hold.exclusive;
    } else {
      this.reservations += 1;
    }
  }

  /** The earliest time a job may start here, given the blackout windows (Infinity: never). */
  nextStartAllowed(timeMs: number): number {
    return this.agent.blackouts.length === 0 ? timeMs : nextStartAllowed(this.agent.blackouts, timeMs);
  }

  /** Whether a job fits from `startMs` for `durationMs` beside every hold, running or promised. */
  fitsFrom(startMs: number, durationMs: number, bytes: number, exclusive: boolean): boolean {
    const steps = this.currentSteps();
    const endMs = startMs + durationMs;
    let step = lastStepAtOrBefore(steps.times, startMs);
    for (; step < steps.times.length && (steps.times[step] ?? 0) < endMs; step += 1) {
      if (!this.stepAdmits(steps, step, bytes, exclusive)) return false;
    }
    return true;
  }

  /**
   * The earliest start (now or later, outside blackout windows) from which the job fits for its
   * whole duration, or Infinity. One sweep over the steps: a run of steps where the job fits is
   * usable if the job, started at the run's first allowed time, ends before the run does.
   */
  earliestStart(durationMs: number, bytes: number, exclusive: boolean): number {
    if (bytes > this.capacityBytes) return Number.POSITIVE_INFINITY;
    const steps = this.currentSteps();
    let runStart: number | null = null;
    for (let step = 0; step < steps.times.length; step += 1) {
      const time = steps.times[step] ?? 0;
      if (this.stepAdmits(steps, step, bytes, exclusive)) {
        runStart ??= time;
        continue;
      }
      if (runStart !== null) {
        const start = this.nextStartAllowed(runStart);
        if (start + durationMs <= time) return start;
        runStart = null;
      }
    }
    // The last step has nothing in it, so the job always fits from there on.
    return runStart === null ? Number.POSITIVE_INFINITY : this.nextStartAllowed(runStart);
  }

  /** The first promised (future) hold that overlaps [fromMs, toMs): who is in a job's way. */
  firstReservationIn(fromMs: number, toMs: number): Hold | null {
    let first: Hold | null = null;
    for (const hold of this.holds) {
      if (hold.startMs <= this.nowMs || hold.startMs >= toMs || hold.endMs <= fromMs) continue;
      if (first === null || hold.startMs < first.startMs) first = hold;
    }
    return first;
  }

  private stepAdmits(steps: Steps, step: number, bytes: number, exclusive: boolean): boolean {
    if (exclusive) return (steps.jobs[step] ?? 0) === 0 && bytes <= this.capacityBytes;
    return (steps.exclusive[step] ?? 0) === 0 && (steps.used[step] ?? 0) + bytes <= this.capacityBytes;
  }

  private currentSteps(): Steps {
    if (this.steps) return this.steps;
    const deltas = new Map<number, { used: number; jobs: number; exclusive: number }>();
    const at = (time: number) => {
      let delta = deltas.get(time);
      if (!delta) {
        delta = { used: 0, jobs: 0, exclusive: 0 };
        deltas.set(time, delta);
      }
      return delta;
    };
    at(this.nowMs);
    for (const hold of this.holds) {
      const sign = hold.exclusive ? 1 : 0;
      const start = at(hold.startMs);
      start.used += hold.bytes;
      start.jobs += 1;
      start.exclusive += sign;
      const end = at(hold.endMs);
      end.used -= hold.bytes;
      end.jobs -= 1;
      end.exclusive -= sign;
    }
    const steps: Steps = { times: [], used: [], jobs: [], exclusive: [] };
    let used = 0;
    let jobs = 0;
    let exclusive = 0;
    for (const time of [...deltas.keys()].sort((a, b) => a - b)) {
      const delta = deltas.get(time);
      if (!delta) continue;
      used += delta.used;
      jobs += delta.jobs;
      exclusive += delta.exclusive;
      steps.times.push(time);
      steps.used.push(used);
      steps.jobs.push(jobs);
      steps.exclusive.push(exclusive);
    }
    this.steps = steps;
    return steps;
  }
}

/** Index of the step that contains `time` (times is sorted and starts at now; time >= now). */
function lastStepAtOrBefore(times: number[], time: number): number {
  let low = 0;
  let high = times.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((times[middle] ?? 0) <= time) low = middle;
    else high = middle - 1;
  }
  return low;
}
