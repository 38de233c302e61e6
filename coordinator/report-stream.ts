import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { type NatsConnection, nanos } from "@nats-io/transport-node";
import { coerceError } from "../protocol/errors.ts";
import type { Logger } from "../protocol/logger.ts";
import { parseReport, type Report } from "../protocol/messages.ts";
import {
  agentOfSubject,
  MAX_MESSAGE_BYTES,
  REPORTS_CONSUMER,
  REPORTS_STREAM,
  Subjects,
} from "../protocol/subjects.ts";

/** What applying a report did; "stale" and "forged" reports change nothing and are logged. */
export type ReportVerdict = "applied" | "duplicate" | "stale" | "forged";

export interface ReportStreamOptions {
  /** Copies of the stream in a JetStream cluster (3 on a 3-node cluster, 1 on one server). */
  replicas: number;
  /** Applies one report from `agent`, synchronously (SQLite); throws only on a store failure. */
  apply: (agent: string, report: Report) => ReportVerdict;
  log: Logger;
}

/** How long the stream drops a republished message id; later, the coordinator's own checks do. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** A report not acknowledged within this is delivered again (the coordinator died mid-apply). */
const ACK_WAIT_MS = 30_000;
/** A report the store failed to apply is tried again after this. */
const RETRY_DELAY_MS = 2_000;

/**
 * Agents' reports (progress and results) reach the coordinator through a JetStream work-queue
 * stream and a durable consumer: a report published while the coordinator is down or restarting
 * waits in the stream, and one whose apply did not finish is delivered again. Each is acknowledged
 * only after it is applied to the store, and applying is idempotent, so redelivery changes nothing.
 *
 * Lifecycle: start() (creates or updates the stream and the consumer, then consumes) → stop().
 */
export class ReportStream {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: ReportStreamOptions,
  ) {}

  static async start(nc: NatsConnection, options: ReportStreamOptions): Promise<ReportStream> {
    const stream = new ReportStream(nc, options);
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, options.replicas);
    await ensureConsumer(jsm);
    await stream.consume();
    return stream;
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }

  private async consume(): Promise<void> {
    const consumer = await jetstream(this.nc).consumers.get(REPORTS_STREAM, REPORTS_CONSUMER);
    const messages = await consumer.consume({ max_messages: 256 });
    this.messages = messages;
    this.loop = (async () => {
      for await (const msg of messages) this.handle(msg);
    })().catch((thrown: unknown) =>
      this.options.log.error("the reports consumer stopped", { error: coerceError(thrown).message }),
    );
  }

  private handle(msg: JsMsg): void {
    const { log, apply } = this.options;
    const agent = agentOfSubject(msg.subject);
    let report: Report;
    try {
      if (!agent) throw new Error(`no agent name in the subject ${msg.subject}`);
      if (msg.data.length > MAX_MESSAGE_BYTES) throw new Error("report too large");
      report = parseReport(msg.data);
    } catch (thrown) {
      // Redelivering a malformed report would never help: drop it for good.
      log.warn("rejected a malformed report", { subject: msg.subject, error: coerceError(thrown).message });
      msg.term();
      return;
    }
    try {
      apply(agent, report);
      msg.ack();
    } catch (thrown) {
      log.error("could not apply a report; it will be delivered again", {
        agent,
        attempt: report.attemptId,
        error: coerceError(thrown).message,
      });
      msg.nak(RETRY_DELAY_MS);
    }
  }
}

async function ensureStream(jsm: JetStreamManager, replicas: number): Promise<void> {
  const config = {
    name: REPORTS_STREAM,
    subjects: [Subjects.anyReports],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    max_msg_size: MAX_MESSAGE_BYTES,
  };
  try {
    await jsm.streams.info(REPORTS_STREAM);
    await jsm.streams.update(REPORTS_STREAM, config);
  } catch (thrown) {
    if (!/not found/i.test(coerceError(thrown).message)) throw thrown;
    await jsm.streams.add(config);
  }
}

async function ensureConsumer(jsm: JetStreamManager): Promise<void> {
  await jsm.consumers.add(REPORTS_STREAM, {
    durable_name: REPORTS_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ACK_WAIT_MS),
    max_deliver: -1,
    filter_subject: Subjects.anyReports,
  });
}
