import { setTimeout as sleep } from "node:timers/promises";
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
import { coerceError, MemfarmError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import { parseReport, type Report, reportMessageId } from "../../protocol/messages.ts";
import {
  agentOfSubject,
  MAX_MESSAGE_BYTES,
  REPORTS_CONSUMER,
  REPORTS_STREAM,
  Subjects,
} from "../../protocol/subjects.ts";
import { whenJetStreamReady } from "./jetstream-ready.ts";

/**
 * What applying a report did; "stale" and "forged" reports change nothing and are logged; an
 * "early" one waits for the reports its agent sent before it, and is delivered again.
 */
export type ReportVerdict = "applied" | "duplicate" | "stale" | "forged" | "early";

export interface ReportStreamOptions {
  /** Copies of the stream in a JetStream cluster (3 on a 3-node cluster, 1 on one server). */
  replicas: number;
  /**
   * Applies one report from `agent`, synchronously (SQLite); throws only on a store failure (a
   * MemfarmError `storage_unavailable` when the store cannot be written: the report waits).
   * `acceptGap`: the reports before it have not come for EARLY_GIVE_UP_MS; apply it anyway.
   */
  apply: (agent: string, report: Report, acceptGap: boolean) => ReportVerdict;
  log: Logger;
  /** How long start() waits for JetStream to be usable (a cluster electing its leader). */
  readyTimeoutMs?: number;
}

/** A cluster started together with the coordinator elects its JetStream leader within seconds. */
const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** Consecutive "consumer/stream not found" notices after which the consumer is created again. */
const MISSING_BEFORE_RECREATE = 3;
const MAX_RECONSUME_DELAY_MS = 5_000;
/**
 * How long each pull request waits on the server. A pull request lives on the node that leads the
 * consumer; when that node dies, the client notices only after two missed idle heartbeats (half of
 * this each) and pulls again. With nats.js' default of 30 s, reports waited 30 s after a node loss;
 * 5 s costs one small request per 5 s when idle.
 */
const PULL_EXPIRES_MS = 5_000;

/** How long the stream drops a republished message id; later, the coordinator's own checks do. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** A report not acknowledged within this is delivered again (the coordinator died mid-apply). */
const ACK_WAIT_MS = 30_000;
/** A report the store failed to apply is tried again after this. */
const RETRY_DELAY_MS = 2_000;
/** A report that came before one its agent sent earlier is tried again after this. */
const EARLY_RETRY_MS = 250;
/**
 * How long a report waits for the ones before it while the store works. The agent sends them in
 * order and only a malformed one is ever dropped, so a gap this old will not fill: the report is
 * applied anyway (with a warning) rather than holding its job back for ever.
 */
const EARLY_GIVE_UP_MS = 60_000;

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
  private readonly stopping = new AbortController();
  /** Reports that came early, by message id: since when they wait for the ones before them. */
  private readonly earlySince = new Map<string, number>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: ReportStreamOptions,
  ) {}

  static async start(nc: NatsConnection, options: ReportStreamOptions): Promise<ReportStream> {
    const stream = new ReportStream(nc, options);
    await whenJetStreamReady(() => stream.ensure(), {
      what: `the reports stream ${REPORTS_STREAM} (${options.replicas} replica${options.replicas === 1 ? "" : "s"})`,
      deadlineMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      log: options.log,
    });
    stream.loop = stream.consumeUntilStopped();
    return stream;
  }

  /** Reports not yet applied: the consumer's pending and unacknowledged messages; null when NATS cannot tell now. */
  async backlog(): Promise<number | null> {
    try {
      const info = await (await jetstreamManager(this.nc)).consumers.info(REPORTS_STREAM, REPORTS_CONSUMER);
      return info.num_pending + info.num_ack_pending;
    } catch {
      return null;
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.messages?.close();
    await this.loop;
  }

  private async ensure(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await ensureStream(jsm, this.options.replicas);
    await ensureConsumer(jsm);
  }

  /**
   * Consumes until stop(). nats.js keeps one consume() going across reconnects, but in a cluster
   * the node that led the stream or the consumer can die: the iterator may then end or throw, or
   * keep reporting the consumer missing while a new leader takes over. Each time, the consumer is
   * looked up (created again if it is gone) and consumed anew, with backoff, so the reports of
   * every agent keep flowing after a node loss instead of waiting for a coordinator restart.
   */
  private async consumeUntilStopped(): Promise<void> {
    const { log } = this.options;
    const stopped = this.stopping.signal;
    for (let failures = 0; !stopped.aborted; ) {
      let ended = "the iterator ended";
      try {
        const consumer = await jetstream(this.nc).consumers.get(REPORTS_STREAM, REPORTS_CONSUMER);
        const messages = await consumer.consume({ max_messages: 256, expires: PULL_EXPIRES_MS });
        this.messages = messages;
        if (stopped.aborted) break; // stop() ran while this was being set up
        void this.watch(messages);
        for await (const msg of messages) {
          failures = 0;
          this.handle(msg);
        }
      } catch (thrown) {
        ended = coerceError(thrown).message;
        if (/not found/i.test(ended)) await this.ensure().catch(() => undefined);
      }
      if (stopped.aborted) break;
      failures += 1;
      log.warn("the reports consumer stopped; consuming again", { reason: ended, failures });
      const delayMs = Math.min(MAX_RECONSUME_DELAY_MS, 100 * 2 ** Math.min(failures, 6));
      await sleep(delayMs, undefined, { signal: stopped }).catch(() => undefined);
    }
    await this.messages?.close();
  }

  /** Ends a consume() that keeps finding its consumer or stream missing, so that it is re-created. */
  private async watch(messages: ConsumerMessages): Promise<void> {
    const { log } = this.options;
    let missing = 0;
    try {
      for await (const status of messages.status()) {
        if (status.type === "consumer_not_found" || status.type === "stream_not_found") {
          missing += 1;
          log.warn("the reports consumer is missing", { notice: status.type, times: missing });
          if (missing >= MISSING_BEFORE_RECREATE) {
            await this.ensure().catch((thrown: unknown) =>
              log.warn("could not create the reports consumer again yet", {
                error: coerceError(thrown).message,
              }),
            );
            await messages.close();
            return;
          }
        } else if (status.type === "heartbeats_missed") {
          log.debug("the reports consumer missed heartbeats", { count: status.count });
        } else if (status.type === "next") {
          missing = 0;
        }
      }
    } catch {
      // The status iterator ends with the messages; nothing to do.
    }
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
    const key = reportMessageId(report);
    try {
      const waitingSince = this.earlySince.get(key);
      const acceptGap = waitingSince !== undefined && Date.now() - waitingSince > EARLY_GIVE_UP_MS;
      if (acceptGap) {
        log.warn("applying a report whose predecessors never arrived", { agent, attempt: report.attemptId });
      }
      const verdict = apply(agent, report, acceptGap);
      if (verdict === "early") {
        if (waitingSince === undefined) this.earlySince.set(key, Date.now());
        msg.nak(EARLY_RETRY_MS);
        return;
      }
      this.earlySince.delete(key);
      msg.ack();
    } catch (thrown) {
      if (thrown instanceof MemfarmError && thrown.code === "storage_unavailable") {
        // Logged once for the whole fault by the store's health; the report waits in the stream.
        this.earlySince.delete(key);
        msg.nak(RETRY_DELAY_MS);
        return;
      }
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
