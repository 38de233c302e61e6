import type { NatsConnection } from "@nats-io/transport-node";
import { Endpoints } from "../../protocol/endpoints.ts";
import { coerceError } from "../../protocol/errors.ts";
import { jobOfAttempt } from "../../protocol/ids.ts";
import type { Logger } from "../../protocol/logger.ts";
import { callEndpoint } from "../../protocol/nats-endpoint.ts";

const HAND_BACK_TIMEOUT_MS = 5000;

/**
 * Tells the coordinator that this agent stopped an attempt because it shuts
 * down, so the job goes back to the queue at once instead of waiting for the
 * agent to be declared lost. True if the coordinator took it back.
 */
export async function handBackAttempt(
  nc: NatsConnection,
  agent: string,
  attemptId: string,
  reason: string,
  log: Logger,
): Promise<boolean> {
  const job = jobOfAttempt(attemptId);
  try {
    const reply = await callEndpoint(
      nc,
      Endpoints.handBack,
      agent,
      { name: agent, attemptId, reason },
      HAND_BACK_TIMEOUT_MS,
    );
    log.info("attempt handed back", { job, attempt: attemptId, jobStatus: reply.jobStatus ?? "unknown" });
    return true;
  } catch (thrown) {
    // The job is not stuck: the coordinator requeues it once it sees the agent gone.
    log.warn("could not hand the attempt back; the coordinator will requeue it when the agent is lost", {
      job,
      attempt: attemptId,
      error: coerceError(thrown).message,
    });
    return false;
  }
}
