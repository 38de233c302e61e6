import type { NatsConnection } from "@nats-io/transport-node";
import { coerceError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import { type Assignment, encode, type HandBack, parseHandBackReply } from "../../protocol/messages.ts";
import { Subjects } from "../../protocol/subjects.ts";

const HAND_BACK_TIMEOUT_MS = 5000;

/**
 * Tells the coordinator that this agent stopped an attempt because it shuts
 * down, so the job goes back to the queue at once instead of waiting for the
 * agent to be declared lost. True if the coordinator took it back.
 */
export async function handBackAttempt(
  nc: NatsConnection,
  agent: string,
  assignment: Assignment,
  reason: string,
  log: Logger,
): Promise<boolean> {
  const message: HandBack = { name: agent, jobId: assignment.jobId, attemptId: assignment.attemptId, reason };
  try {
    const reply = parseHandBackReply(
      (await nc.request(Subjects.handBack(agent), encode(message), { timeout: HAND_BACK_TIMEOUT_MS })).data,
    );
    if (!reply.ok) throw new Error(reply.error ?? "the coordinator refused it");
    log.info("attempt handed back", {
      job: assignment.jobId,
      attempt: assignment.attemptId,
      jobStatus: reply.jobStatus ?? "unknown",
    });
    return true;
  } catch (thrown) {
    // The job is not stuck: the coordinator requeues it once it sees the agent gone.
    log.warn("could not hand the attempt back; the coordinator will requeue it when the agent is lost", {
      job: assignment.jobId,
      attempt: assignment.attemptId,
      error: coerceError(thrown).message,
    });
    return false;
  }
}
