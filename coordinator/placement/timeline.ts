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
 * end: everything planned has ended by then).
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
    this.startsNow = agent.state === AgentState.online && !inBlackout(agent.blackouts, nowMs);
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
    if (this.steps) addToSteps(this.steps, hold);
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

  /** Built on first use, then kept up to date hold by hold (rebuilding would allocate per placement). */
  private currentSteps(): Steps {
    if (this.steps) return this.steps;
    const steps: Steps = { times: [this.nowMs], used: [0], jobs: [0], exclusive: [0] };
    for (const hold of this.holds) addToSteps(steps, hold);
    this.steps = steps;
    return steps;
  }
}

/** Adds a hold to the steps: splits the steps at its start and end, then counts it in between. */
function addToSteps(steps: Steps, hold: Hold): void {
  const first = splitAt(steps, hold.startMs);
  const end = splitAt(steps, hold.endMs);
  const exclusive = hold.exclusive ? 1 : 0;
  for (let step = first; step < end; step += 1) {
    steps.used[step] = (steps.used[step] ?? 0) + hold.bytes;
    steps.jobs[step] = (steps.jobs[step] ?? 0) + 1;
    steps.exclusive[step] = (steps.exclusive[step] ?? 0) + exclusive;
  }
}

/** The index of the step that starts at `time` (>= now), splitting the step that contains it. */
function splitAt(steps: Steps, time: number): number {
  const containing = lastStepAtOrBefore(steps.times, time);
  if (steps.times[containing] === time) return containing;
  const index = containing + 1;
  steps.times.splice(index, 0, time);
  steps.used.splice(index, 0, steps.used[containing] ?? 0);
  steps.jobs.splice(index, 0, steps.jobs[containing] ?? 0);
  steps.exclusive.splice(index, 0, steps.exclusive[containing] ?? 0);
  return index;
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
