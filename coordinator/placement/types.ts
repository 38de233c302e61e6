import type { AgentState, Priority } from "../../protocol/job-status.ts";
import type { DailyWindow } from "../../protocol/windows.ts";

/** One agent as placement sees it: what it offers, what already runs there, when it takes nothing new. */
export interface PlacementAgent {
  name: string;
  state: AgentState;
  /** Memory the agent offers to jobs (its memory minus headroom). */
  capacityBytes: number;
  labels: Record<string, string>;
  /** Jobs assigned or running there now. */
  running: RunningJob[];
  /**
   * Daily UTC windows in which no new job may START on this agent (running ones go on), e.g.
   * 22:00–08:00 = { fromMinute: 1320, toMinute: 480 } (wraps midnight). fromMinute === toMinute is
   * an empty window.
   */
  blackouts: BlackoutWindow[];
}

export interface RunningJob {
  jobId: number;
  reservationBytes: number;
  exclusive: boolean;
  /** When it should end (start + time limit or history); an overdue job still holds its memory. */
  expectedEndMs: number;
}

/** The protocol's daily UTC window, as agents advertise it. */
export type BlackoutWindow = DailyWindow;

export interface PlacementJob {
  /** Lower id = submitted earlier; breaks ties of the queue order. */
  id: number;
  /** When it was submitted (ms since the epoch): the queue is first come first served within a priority. */
  submittedMs: number;
  priority: Priority;
  reservationBytes: number;
  /** The agent must carry every one. */
  labels: Record<string, string>;
  /** Needs the whole agent: nothing else may run there while it runs. */
  exclusive: boolean;
  /** From the job's time limit or history; used for reservations. */
  expectedDurationMs: number;
}

export interface PlacementInput {
  nowMs: number;
  agents: PlacementAgent[];
  queued: PlacementJob[];
}

export interface Reservation {
  agent: string;
  startMs: number;
}

export interface HeldJob {
  jobId: number;
  /** Why it waits: a sentence a person can act on. */
  reason: string;
  /** Where and when it is expected to start, for a job that holds a reservation. */
  reservation: Reservation | null;
}

export interface PlacementOutput {
  placements: { jobId: number; agent: string }[];
  /** Every queued job not placed, in queue order. */
  held: HeldJob[];
}

export interface PlacementOptions {
  /**
   * How many blocked jobs get a reservation in one pass (conservative backfill), beyond the first
   * blocked job of each priority, which always gets one. Bounds the cost of a pass.
   */
  maxReservations?: number;
}
