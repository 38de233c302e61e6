import { setTimeout as sleep } from "node:timers/promises";
import type { NatsConnection } from "@nats-io/transport-node";
import { coerceError } from "../protocol/errors.ts";
import type { Logger } from "../protocol/logger.ts";

interface Letter {
  subject: string;
  payload: string;
  resolve: () => void;
}

const REQUEST_TIMEOUT_MS = 5000;
const MAX_BACKOFF_MS = 5000;

/**
 * Messages to the coordinator that must arrive: sent one at a time in order,
 * each as a request, and retried with backoff until the coordinator answers.
 * The coordinator applies them idempotently (attempt id + sequence number),
 * so a retry after a lost reply changes nothing.
 */
export class Outbox {
  private readonly queue: Letter[] = [];
  private sending = false;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  /** Queues a message; the promise settles once the coordinator has acknowledged it. */
  send(subject: string, payload: string): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ subject, payload, resolve });
      void this.pump();
    });
  }

  /** Stops retrying; messages still queued are dropped (the issue on durability takes them to disk). */
  close(): void {
    this.closed = true;
    for (const letter of this.queue.splice(0)) letter.resolve();
  }

  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      let failures = 0;
      while (!this.closed && this.queue.length > 0) {
        const letter = this.queue[0] as Letter;
        try {
          const reply = await this.nc.request(letter.subject, letter.payload, {
            timeout: REQUEST_TIMEOUT_MS,
          });
          const answer = reply.json<{ ok?: boolean; error?: string }>();
          if (answer.ok !== true) {
            this.log.warn("coordinator refused a message; dropping it", {
              subject: letter.subject,
              error: answer.error,
            });
          }
          this.queue.shift();
          letter.resolve();
          failures = 0;
        } catch (thrown) {
          failures += 1;
          if (failures === 1 || failures % 20 === 0) {
            this.log.warn("coordinator did not acknowledge; retrying", {
              subject: letter.subject,
              error: coerceError(thrown).message,
            });
          }
          await sleep(Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 6)));
        }
      }
    } finally {
      this.sending = false;
    }
  }
}
