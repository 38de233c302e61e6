import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { Endpoints } from "../../protocol/endpoints.ts";
import { ValidationError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { HandBack, HandBackReply } from "../../protocol/messages.ts";
import { serveEndpoint } from "../../protocol/nats-endpoint.ts";
import type { Transitions } from "../attempts/transitions.ts";
import type { JobsStore } from "../store/jobs-store.ts";
import { COORDINATOR_QUEUE } from "./agent-link.ts";

/**
 * Takes back attempts from agents that shut down before the attempt ended
 * (their drain deadline passed). The job goes back to the queue at once,
 * keeping its place, and the attempt does not count against its budget: the
 * job did nothing wrong. Whatever the agent reports about the attempt later
 * is stale and rejected by the usual rules.
 */
export class HandBacks {
  private subscription: Subscription | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jobs: JobsStore,
    private readonly transitions: Transitions,
    private readonly log: Logger,
    /** Called after a job went back to the queue, so it can be placed again. */
    private readonly onRequeued: () => void,
  ) {}

  start(): void {
    this.subscription = serveEndpoint(this.nc, Endpoints.handBack, {
      subject: Endpoints.handBack.subject("*"),
      queue: COORDINATOR_QUEUE,
      log: this.log,
      handle: (handBack) => this.apply(handBack),
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  private apply(handBack: HandBack): HandBackReply {
    // Checked before anything else: an agent must not learn or change the state of another's job,
    // and the log line goes to the attempt's own job.
    const attempt = this.jobs.attempt(handBack.attemptId);
    if (!attempt || attempt.agent !== handBack.name) {
      throw new ValidationError(
        "not_own_attempt",
        `attempt ${handBack.attemptId} was never given to agent ${handBack.name}; an agent hands back only its own attempts`,
        "attemptId",
      );
    }
    const status = this.transitions.handBackAttempt(handBack.attemptId, handBack.name, handBack.reason);
    if (status === null) {
      // Already finished, canceled or lost meanwhile: nothing to take back.
      this.log.info("hand-back of an attempt that is no longer current", {
        job: attempt.job_id,
        attempt: handBack.attemptId,
        agent: handBack.name,
      });
      return { jobStatus: this.jobs.get(attempt.job_id)?.status };
    }
    if (status === "queued") this.onRequeued();
    return { jobStatus: status };
  }
}
