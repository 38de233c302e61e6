import { coerceError } from "../../protocol/errors.ts";
import { Lifecycle } from "../../protocol/lifecycle.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { Assignment } from "../../protocol/messages.ts";
import type { Transitions } from "../attempts/transitions.ts";
import type { AssignOutcome } from "../nats/agent-link.ts";
import { placeJobs } from "../placement/index.ts";
import type { Store } from "../store/store.ts";
import { readPlacementInput } from "./placement-input.ts";

export interface SchedulerOptions {
  /** How often the scheduler looks at the queue even when nothing woke it. */
  tickMs: number;
  /** Agents lost for this long (no heartbeat) lose their attempts. */
  lostAfterMs: number;
  maxAttempts: number;
}

/** Hands an attempt to an agent (the agent link's assign). */
export type Assign = (agent: string, assignment: Assignment) => Promise<AssignOutcome>;

/**
 * The scheduling loop: places waiting jobs on agents (placement.ts decides),
 * hands each one over, records why the others wait, and declares silent
 * agents lost so their jobs go back to the queue. One pass runs at a time;
 * wake() during a pass makes another pass follow it.
 *
 * Lifecycle: created → running (start) → stopped (stop: no pass starts any
 * more, not even on wake(); a pass in flight finishes, and stop() waits for it).
 */
export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private startedAtMs = 0;
  private passing: Promise<void> | null = null;
  private again = false;
  private readonly lifecycle: Lifecycle<"created" | "running" | "stopped">;

  constructor(
    private readonly store: Store,
    private readonly transitions: Transitions,
    private readonly log: Logger,
    private readonly options: SchedulerOptions,
  ) {
    this.lifecycle = new Lifecycle<"created" | "running" | "stopped">("created", "scheduler", log);
  }

  private assign: Assign = async () => ({
    accepted: false,
    reason: "the scheduler is not started",
    unreachable: false,
  });

  /** Starts the loop; `assign` hands each placed attempt to its agent. */
  start(assign: Assign): void {
    this.assign = assign;
    this.lifecycle.set("running", "scheduler running", { tickMs: this.options.tickMs });
    this.startedAtMs = Date.now();
    this.timer = setInterval(() => this.wake(), this.options.tickMs);
    this.wake();
  }

  async stop(): Promise<void> {
    this.lifecycle.set("stopped", "scheduler stopped: no pass starts any more");
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.passing;
  }

  wake(): void {
    // Before start() nothing can be handed over yet (start passes at once); after stop() results and
    // submits still arrive while the coordinator drains, but no pass starts.
    if (!this.lifecycle.is("running")) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = this.pass()
      .catch((thrown: unknown) =>
        this.log.error("scheduling pass failed", { error: coerceError(thrown).message }),
      )
      .finally(() => {
        this.passing = null;
        if (this.again && this.timer) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async pass(): Promise<void> {
    this.declareSilentAgentsLost();
    const queued = this.store.jobs.queued();
    // Most passes follow a result or the tick with nothing waiting: reading every agent and every
    // running job to place nothing would hold up the submit, report or heartbeat queued behind it.
    if (queued.length === 0) return;
    const previous = new Map(queued.map((job) => [job.id, job.heldReason]));
    const { placements, held } = placeJobs(readPlacementInput(this.store, queued, Date.now()));
    for (const { jobId, reason } of held) {
      if (previous.get(jobId) !== reason) this.transitions.holdJob(jobId, reason);
    }
    await Promise.all(placements.map(({ jobId, agent }) => this.handOver(jobId, agent)));
  }

  private async handOver(jobId: number, agent: string): Promise<void> {
    const assigned = this.transitions.assignJob(jobId, agent);
    if (assigned === null) return; // canceled meanwhile
    const { attemptId, job } = assigned;
    // A job pinned to a commit (a pull request's head as read, or what an earlier attempt built)
    // builds that commit even if its ref has moved on.
    const build =
      job.ref && job.repo
        ? {
            repo: job.repo,
            ref: job.ref,
            configureFlags: job.configureFlags,
            ...(job.commit ? { commit: job.commit } : {}),
          }
        : null;
    const reply = await (this.assign as Assign)(agent, {
      attemptId,
      python: build ? null : job.python,
      build,
      args: job.args,
      limitBytes: job.reservationBytes,
      timeoutSeconds: job.timeoutSeconds,
      noOutputTimeoutSeconds: job.noOutputTimeoutSeconds,
    });
    if (reply.accepted) {
      this.log.info("job assigned", { job: jobId, agent, attempt: attemptId });
      return;
    }
    const reason = `agent ${agent} did not take the job: ${reply.reason ?? "no reason given"}`;
    this.log.warn("assignment failed", { job: jobId, agent, reason });
    this.transitions.requeueRefused(jobId, attemptId, reason);
    // Nothing listens for it: lost now rather than after lost-after seconds of bounced assignments.
    if (reply.unreachable && this.store.agents.markLost(agent)) this.loseAttemptsOf(agent, "unreachable");
  }

  private declareSilentAgentsLost(): void {
    // Right after a (re)start, silence may be the coordinator's own: agents heartbeat into the void
    // while it is down. They get a whole lost-after period to reach the new process.
    if (Date.now() - this.startedAtMs < this.options.lostAfterMs) return;
    const lost = this.store.agents.markSilentLost(new Date(Date.now() - this.options.lostAfterMs));
    for (const agent of lost) this.loseAttemptsOf(agent, "no heartbeat");
  }

  /** The agent is lost: its attempts are lost too, and their jobs requeued within their budget. */
  private loseAttemptsOf(agent: string, why: string): void {
    this.log.warn(`agent lost: ${why}`, { agent, lostAfterMs: this.options.lostAfterMs });
    for (const active of this.store.jobs.activeAttemptsOf(agent)) {
      this.transitions.loseAttempt(
        active.attemptId,
        this.options.maxAttempts,
        `agent ${agent} was lost (${why})`,
      );
    }
  }
}
