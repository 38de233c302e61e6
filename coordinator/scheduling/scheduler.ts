import { coerceError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { Assignment } from "../../protocol/messages.ts";
import type { FarmEvents } from "../attempts/farm-events.ts";
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
  assign: (agent: string, assignment: Assignment) => Promise<AssignOutcome>;
}

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
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly events: FarmEvents,
    private readonly log: Logger,
    private readonly options: SchedulerOptions,
  ) {}

  start(): void {
    this.startedAtMs = Date.now();
    this.timer = setInterval(() => this.wake(), this.options.tickMs);
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.passing;
  }

  wake(): void {
    if (this.stopped) return; // results and submits still arrive while the coordinator drains
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
    const previous = new Map(queued.map((job) => [job.id, job.heldReason]));
    const { placements, held } = placeJobs(readPlacementInput(this.store, queued, Date.now()));
    for (const { jobId, reason } of held) {
      if (previous.get(jobId) === reason) continue;
      this.store.jobs.setHeldReason(jobId, reason);
      this.emitJob(jobId);
    }
    await Promise.all(placements.map(({ jobId, agent }) => this.handOver(jobId, agent)));
  }

  private async handOver(jobId: number, agent: string): Promise<void> {
    const attemptId = this.store.jobs.assign(jobId, agent);
    if (attemptId === null) return; // canceled meanwhile
    const job = this.emitJob(jobId);
    if (!job) return;
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
    const reply = await this.options.assign(agent, {
      jobId: String(jobId),
      attemptId,
      suite: job.suite,
      python: build ? null : job.python,
      build,
      args: job.args,
      memlimitBytes: job.memlimitBytes ?? 0,
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
    if (this.store.jobs.revertAssignment(jobId, attemptId, reason)) this.emitJob(jobId);
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
      const status = this.store.jobs.loseAttempt(
        active.attemptId,
        this.options.maxAttempts,
        `agent ${agent} was lost (${why})`,
      );
      if (status) this.emitJob(active.jobId);
    }
  }

  private emitJob(jobId: number) {
    const job = this.store.jobs.get(jobId);
    if (job) this.events.emit("job", job);
    return job;
  }
}
