import { setTimeout as sleep } from "node:timers/promises";
import { coerceError, MemfarmError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";

/** JetStream did not become usable within the wait (no meta leader, no quorum, not enabled). */
export class JetStreamUnavailableError extends MemfarmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("jetstream_unavailable", message, options);
  }
}

/**
 * Errors that waiting cannot fix: retrying them would only hide the real message for the whole
 * wait. (A stream with more replicas than a single server can hold is the common one.)
 */
const PERMANENT = [/replicas > 1 not supported in non-clustered mode/i, /permission/i, /authoriz/i];

export interface ReadyWait {
  /** What is being set up, for the log and the final error ("the reports stream"). */
  what: string;
  /** Give up after this long. */
  deadlineMs: number;
  log: Logger;
  /** Aborts the wait early (the coordinator is stopping). */
  signal?: AbortSignal;
}

/**
 * Runs `setUp` until it succeeds, with backoff, for a bounded time. Right after a JetStream
 * cluster starts (or loses the node that led it) there is no meta leader for a few seconds, and
 * every API call answers "JetStream system temporarily unavailable", times out or finds no peers
 * for placement yet: the same call a moment later succeeds. A coordinator started together with
 * its cluster must wait that out instead of exiting.
 */
export async function whenJetStreamReady<T>(setUp: () => Promise<T>, wait: ReadyWait): Promise<T> {
  const deadline = Date.now() + wait.deadlineMs;
  for (let failures = 1; ; failures += 1) {
    try {
      return await setUp();
    } catch (thrown) {
      const error = coerceError(thrown);
      const permanent = PERMANENT.some((pattern) => pattern.test(error.message));
      if (permanent || Date.now() >= deadline || wait.signal?.aborted) {
        throw new JetStreamUnavailableError(
          permanent
            ? `could not set up ${wait.what}: ${error.message}`
            : `could not set up ${wait.what} within ${Math.round(wait.deadlineMs / 1000)} s: ${error.message}. ` +
                "Check that the NATS servers run with JetStream enabled and, for a cluster, that a majority of its nodes are up and routed to each other",
          { cause: error },
        );
      }
      if (failures === 1 || failures % 10 === 0) {
        wait.log.warn(`JetStream not ready for ${wait.what}; retrying`, { error: error.message, failures });
      }
      const delayMs = Math.min(2000, 100 * 2 ** Math.min(failures, 5), Math.max(0, deadline - Date.now()));
      await sleep(delayMs, undefined, { signal: wait.signal }).catch(() => undefined);
    }
  }
}
