import { setTimeout as sleep } from "node:timers/promises";
import type { JetStreamClient } from "@nats-io/jetstream";
import { coerceError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { ReportJournal } from "./report-journal.ts";

interface Letter {
  payload: string;
  messageId: string;
  resolve: () => void;
}

const PUBLISH_TIMEOUT_MS = 5000;
const MAX_BACKOFF_MS = 5000;

/**
 * One attempt's reports on their way to the coordinator. Each is written to the attempt's journal
 * first, then published to the reports stream (JetStream) one at a time, in order, and retried with
 * backoff until the stream acknowledges it. The stream drops a republished message id and the
 * coordinator applies each report once, so a retry after a lost acknowledgement changes nothing.
 * While NATS is unreachable reports wait here and on disk; after the agent restarts, the journal
 * is replayed (see ReportJournal.pending).
 */
export class Outbox {
  private readonly queue: Letter[] = [];
  private sending = false;
  private closed = false;
  private warnedJournal = false;
  private acknowledged: number;

  constructor(
    private readonly js: JetStreamClient,
    private readonly subject: string,
    private readonly journal: ReportJournal,
    private readonly log: Logger,
    /** Reports of this journal that an earlier process already had acknowledged. */
    alreadyAcknowledged = 0,
  ) {
    this.acknowledged = alreadyAcknowledged;
  }

  /** Queues a report; the promise settles once the stream has it (or the outbox is closed). */
  send(payload: string, messageId: string, journaled = false): Promise<void> {
    if (!journaled && !this.journal.append(payload) && !this.warnedJournal) {
      this.warnedJournal = true;
      this.log.warn(
        "cannot write the report journal; this attempt's reports go from memory, and are lost only if the agent dies before they are delivered",
        { attempt: this.journal.attemptId, error: this.journal.brokenBecause },
      );
    }
    return new Promise((resolve) => {
      this.queue.push({ payload, messageId, resolve });
      void this.pump();
    });
  }

  /** Stops retrying; what is still queued stays in the journal for the next agent process. */
  close(): void {
    this.closed = true;
    for (const letter of this.queue.splice(0)) letter.resolve();
  }

  /** Drops what is queued and the journal: the reports are no longer wanted anywhere. */
  discard(): void {
    this.close();
    this.journal.remove();
  }

  /** Everything sent was acknowledged: the journal can go. */
  finish(): void {
    if (this.queue.length === 0 && !this.closed) this.journal.remove();
  }

  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      let failures = 0;
      while (!this.closed && this.queue.length > 0) {
        const letter = this.queue[0] as Letter;
        try {
          await this.js.publish(this.subject, letter.payload, {
            msgID: letter.messageId,
            timeout: PUBLISH_TIMEOUT_MS,
          });
          this.queue.shift();
          this.acknowledged += 1;
          this.journal.markAcknowledged(this.acknowledged);
          letter.resolve();
          failures = 0;
        } catch (thrown) {
          failures += 1;
          if (failures === 1 || failures % 20 === 0) {
            this.log.warn("the reports stream did not acknowledge; retrying", {
              attempt: this.journal.attemptId,
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
