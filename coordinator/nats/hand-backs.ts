import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { coerceError, ValidationError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import { encode, type HandBack, type HandBackReply, parseHandBack } from "../../protocol/messages.ts";
import { agentOfSubject, MAX_MESSAGE_BYTES, Subjects } from "../../protocol/subjects.ts";
import type { FarmEvents } from "../attempts/farm-events.ts";
import type { Store } from "../store/store.ts";

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
    private readonly store: Store,
    private readonly events: FarmEvents,
    private readonly log: Logger,
    /** Called after a job went back to the queue, so it can be placed again. */
    private readonly onRequeued: () => void,
  ) {}

  start(): void {
    this.subscription = this.nc.subscribe(Subjects.anyHandBack, {
      queue: "memfarm-coordinator",
      callback: (error, msg) => {
        if (error) return;
        let reply: HandBackReply;
        try {
          if (msg.data.length > MAX_MESSAGE_BYTES) throw new Error("message too large");
          const handBack = parseHandBack(msg.data);
          const sender = agentOfSubject(msg.subject);
          if (sender !== handBack.name)
            throw new Error(`agent ${sender ?? "?"} sent a hand-back in the name of ${handBack.name}`);
          reply = this.apply(handBack);
        } catch (thrown) {
          const message = coerceError(thrown).message;
          this.log.warn("rejected a hand-back from an agent", { subject: msg.subject, error: message });
          reply = { ok: false, error: message };
        }
        if (msg.reply) msg.respond(encode(reply));
      },
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  private apply(handBack: HandBack): HandBackReply {
    // Checked before anything else: an agent must not learn or change the state of another's job,
    // and the log line below goes to the attempt's own job, not to whatever job the body names.
    const attempt = this.store.jobs.attempt(handBack.attemptId);
    if (!attempt || attempt.agent !== handBack.name || String(attempt.job_id) !== handBack.jobId) {
      throw new ValidationError(
        "not_own_attempt",
        `attempt ${handBack.attemptId} of job ${handBack.jobId} was never given to agent ${handBack.name}; an agent hands back only its own attempts`,
        "attemptId",
      );
    }
    const jobId = attempt.job_id;
    const reason = `agent ${handBack.name} handed the job back (${handBack.reason})`;
    const status = this.store.jobs.handBackAttempt(handBack.attemptId, handBack.name, reason);
    if (status === null) {
      // Already finished, canceled or lost meanwhile: nothing to take back.
      this.log.info("hand-back of an attempt that is no longer current", {
        job: jobId,
        attempt: handBack.attemptId,
        agent: handBack.name,
      });
      return { ok: true, jobStatus: this.store.jobs.get(jobId)?.status };
    }
    const lines = this.store.logs.append(jobId, handBack.attemptId, [
      {
        stream: "system",
        text: `${reason}; the job ${status === "queued" ? "waits for another agent" : `ended as ${status}`}`,
      },
    ]);
    this.events.emit("log", { jobId, lines });
    const job = this.store.jobs.get(jobId);
    if (job) this.events.emit("job", job);
    this.log.info("attempt handed back", {
      job: jobId,
      attempt: handBack.attemptId,
      agent: handBack.name,
      status,
    });
    if (status === "queued") this.onRequeued();
    return { ok: true, jobStatus: status };
  }
}
