import { join } from "node:path";
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { coerceError } from "../protocol/errors.ts";
import type { Logger } from "../protocol/logger.ts";
import {
  type AssignReply,
  encode,
  type Heartbeat,
  parseAssignment,
  parseCancelRequest,
  parseHeartbeatReply,
  parseProbePythonRequest,
  parseRegisterReply,
  type RegisterRequest,
  type Report,
  reportMessageId,
} from "../protocol/messages.ts";
import { connectNats } from "../protocol/nats-connect.ts";
import { inboxPrefixFor, Subjects } from "../protocol/subjects.ts";
import { FinishedAttempts } from "./attempts/finished-attempts.ts";
import { handBackAttempt } from "./attempts/hand-back.ts";
import { RanAttempts } from "./attempts/ran-attempts.ts";
import { RunningAttempt } from "./attempts/run-attempt.ts";
import type { AgentConfig } from "./config.ts";
import { probePython } from "./cpython/python-check.ts";
import { readHostFacts } from "./link/host-facts.ts";
import { JobProcessRecords } from "./processes/leftover-jobs.ts";
import { AttemptReporter } from "./reports/attempt-reporter.ts";
import { Outbox } from "./reports/outbox.ts";
import { ReportJournal } from "./reports/report-journal.ts";

/**
 * Lifecycle, set only by start(), stop() and forceStop():
 *
 *   created → RUNNING (start) → DRAINING (stop) → STOPPING → STOPPED
 *
 * - DRAINING: assignments are refused with a reason; heartbeats go on and say
 *   `draining`, so the coordinator neither places work here nor declares the
 *   agent lost; cancel still works; running attempts may finish until the
 *   drain deadline (`--drain-timeout`).
 * - STOPPING: attempts still running at the deadline are stopped (their whole
 *   trees) and handed back, so the coordinator queues their jobs again at once
 *   without counting the attempt against them. Then the NATS connection drains.
 * - forceStop() (a second signal) kills every tree and closes the connection
 *   from any state: the coordinator requeues those jobs once the agent is lost.
 */
export type AgentLifecycle = "created" | "running" | "draining" | "stopping" | "stopped";

const DEFAULT_HEARTBEAT_MS = 2000;
const RESULT_DELIVERY_DEADLINE_MS = 5000;

/** The agent daemon: joins the farm over NATS, runs assigned attempts, reports them. */
export class AgentDaemon {
  private lifecycle: AgentLifecycle = "created";
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  /** Ended attempts whose results are on their way or just arrived: the coordinator must not lose them. */
  private readonly finished = new FinishedAttempts();
  private readonly processRecords: JobProcessRecords;
  /** One outbox per attempt: its reports stay in order, and one job's log does not hold up another's start. */
  private readonly outboxes = new Set<Outbox>();
  private readonly subscriptions: Subscription[] = [];
  private readonly attempts = new Map<string, RunningAttempt>();
  /** Attempts that ran here: an assignment for one of them again is a replay, refused. */
  private readonly ran = new RanAttempts();
  private readonly finishing = new Set<Promise<void>>();
  /** Attempts stopped at the drain deadline: handed back rather than reported as errors. */
  private readonly handingBack = new Set<string>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;

  constructor(
    private readonly config: AgentConfig,
    private readonly log: Logger,
  ) {
    this.processRecords = new JobProcessRecords(join(config.workDir, "running"));
  }

  get state(): AgentLifecycle {
    return this.lifecycle;
  }

  get name(): string {
    return this.config.name;
  }

  async start(): Promise<void> {
    if (this.lifecycle !== "created") throw new Error(`agent cannot start from state ${this.lifecycle}`);
    const nc = await connectNats(
      { servers: this.config.natsServers, credsFile: this.config.credsFile },
      `memfarm-agent-${this.config.name}`,
      { inboxPrefix: inboxPrefixFor(this.config.name), log: this.log },
    );
    this.nc = nc;
    this.js = jetstream(nc);
    this.processRecords.killLeftovers(this.log);
    this.replayJournals();
    this.serve(Subjects.assign(this.config.name), (msg) => this.onAssign(msg));
    this.serve(Subjects.cancel(this.config.name), (msg) => this.onCancel(msg));
    this.serve(Subjects.probePython(this.config.name), (msg) => this.onProbe(msg));
    this.lifecycle = "running";
    await this.register();
    this.scheduleHeartbeat();
    this.log.info("agent joined the farm", {
      name: this.config.name,
      nats: this.config.natsServers.join(","),
    });
  }

  /**
   * Shuts down in steps (see AgentLifecycle): drain for up to
   * `drainTimeoutMs`, hand back what still runs, then close. Resolves once
   * every attempt is gone and its result or hand-back was delivered (bounded).
   */
  async stop(drainTimeoutMs = this.config.drainTimeoutMs): Promise<void> {
    if (this.lifecycle !== "running") return;
    this.lifecycle = "draining";
    this.log.info("draining: taking no new jobs, letting running ones finish", {
      running: this.attempts.size,
      deadlineSeconds: drainTimeoutMs / 1000,
    });
    this.scheduleHeartbeat(0); // tell the coordinator now, not at the next beat
    const drained = await this.attemptsSettled(drainTimeoutMs);
    if (this.lifecycle !== "draining") return; // forced meanwhile
    this.lifecycle = "stopping";
    if (!drained) {
      const left = [...this.attempts.values()];
      this.log.warn("drain deadline passed: stopping running jobs and handing them back", {
        jobs: left.map((attempt) => attempt.assignment.jobId).join(","),
      });
      for (const attempt of left) {
        this.handingBack.add(attempt.assignment.attemptId);
        attempt.stop("shutdown");
      }
      await this.attemptsSettled(this.config.killGraceMs + RESULT_DELIVERY_DEADLINE_MS);
    }
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    for (const outbox of this.outboxes) outbox.close();
    await this.nc?.drain().catch(() => undefined);
    this.lifecycle = "stopped";
    this.log.info("agent stopped");
  }

  /** For a second Ctrl-C: kills every running test tree at once and closes the connection. */
  forceStop(): void {
    this.log.warn("forced stop: killing running jobs", { running: this.attempts.size });
    for (const attempt of this.attempts.values()) attempt.forceKill();
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    void this.nc?.close();
    this.lifecycle = "stopped";
  }

  /** Whether every attempt ended and reported within `ms`. */
  private async attemptsSettled(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const settled = Promise.all([...this.finishing]).then(() => true as const);
    try {
      return await Promise.race([settled, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Heartbeats and registration go on while the agent runs or drains. */
  private get inFarm(): boolean {
    return this.lifecycle === "running" || this.lifecycle === "draining";
  }

  private serve(subject: string, handle: (msg: Msg) => Promise<unknown>): void {
    const nc = this.nc as NatsConnection;
    const subscription = nc.subscribe(subject, {
      callback: (error, msg) => {
        if (error) return;
        handle(msg)
          .then((reply) => msg.respond(encode(reply)))
          .catch((thrown: unknown) => {
            const message = coerceError(thrown).message;
            this.log.warn("rejected a message", { subject, error: message });
            msg.respond(encode({ ok: false, accepted: false, error: message, reason: message }));
          });
      },
    });
    this.subscriptions.push(subscription);
  }

  private async register(): Promise<void> {
    const nc = this.nc as NatsConnection;
    const request: RegisterRequest = {
      name: this.config.name,
      facts: readHostFacts({
        memoryBytes: this.config.memoryBytes,
        labels: this.config.labels,
        blackouts: this.config.blackouts,
      }),
      running: [...this.attempts.keys()],
      finished: this.finished.list(),
      draining: this.lifecycle === "draining",
    };
    for (let tries = 1; this.inFarm; tries += 1) {
      try {
        const reply = parseRegisterReply(
          (await nc.request(Subjects.register(this.config.name), encode(request), { timeout: 3000 })).data,
        );
        if (!reply.ok) throw new Error(reply.error ?? "registration refused");
        this.heartbeatMs = reply.heartbeatIntervalMs || DEFAULT_HEARTBEAT_MS;
        this.stopDisowned(reply.stop);
        return;
      } catch (thrown) {
        if (tries === 1 || tries % 30 === 0) {
          this.log.warn("waiting for the coordinator to accept registration", {
            error: coerceError(thrown).message,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private scheduleHeartbeat(delayMs = this.heartbeatMs): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer); // one beat pending at a time
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), delayMs);
  }

  private async heartbeat(): Promise<void> {
    const nc = this.nc;
    if (!nc || !this.inFarm) return;
    const beat: Heartbeat = {
      name: this.config.name,
      usedBytes: [...this.attempts.values()].reduce(
        (sum, attempt) => sum + (attempt.currentRssBytes ?? 0),
        0,
      ),
      running: [...this.attempts.keys()],
      finished: this.finished.list(),
      draining: this.lifecycle === "draining",
    };
    try {
      const reply = parseHeartbeatReply(
        (await nc.request(Subjects.heartbeat(this.config.name), encode(beat), { timeout: 2000 })).data,
      );
      this.stopDisowned(reply.stop);
      if (reply.reregister) {
        await this.register();
      }
    } catch (thrown) {
      this.log.debug("heartbeat not answered", { error: coerceError(thrown).message });
    } finally {
      if (this.inFarm) this.scheduleHeartbeat();
    }
  }

  private async onAssign(msg: Msg): Promise<AssignReply> {
    const assignment = parseAssignment(msg.data);
    if (this.attempts.has(assignment.attemptId)) return { accepted: true };
    if (this.ran.has(assignment.attemptId)) {
      throw new Error(
        `attempt ${assignment.attemptId} of job ${assignment.jobId} already ran on agent ${this.config.name}; a replayed assignment is not run again`,
      );
    }
    if (this.lifecycle !== "running") {
      return {
        accepted: false,
        reason: `agent ${this.config.name} is shutting down: it finishes its running jobs and takes no new ones`,
      };
    }
    const outbox = this.outboxFor(new ReportJournal(this.outboxDir, assignment.attemptId));
    this.outboxes.add(outbox);
    const reporter = new AttemptReporter(assignment.jobId, assignment.attemptId, outbox);
    const attempt = new RunningAttempt(assignment, {
      workDir: this.config.workDir,
      sampleIntervalMs: this.config.sampleIntervalMs,
      onLog: (line) => reporter.addLog(line),
      onSample: (sample) => reporter.addSample(sample),
      onTests: (records) => reporter.addTests(records),
      onCommit: (commit) => reporter.setCommit(commit),
      killGraceMs: this.config.killGraceMs,
      allowLocalRepos: this.config.allowLocalRepos,
      limitMode: this.config.limitMode,
      onStarted: () => reporter.markStarted(),
      processRecords: this.processRecords,
    });
    this.attempts.set(assignment.attemptId, attempt);
    this.ran.add(assignment.attemptId);
    this.log.info("attempt started", { job: assignment.jobId, attempt: assignment.attemptId });
    const finished = attempt.done
      .then(async (outcome) => {
        const handingBack = this.handingBack.has(assignment.attemptId) && this.nc;
        if (handingBack) {
          const reason = "it shut down and its drain deadline passed";
          if (
            await handBackAttempt(this.nc as NatsConnection, this.config.name, assignment, reason, this.log)
          ) {
            // The job runs again elsewhere; this attempt's last words would only be rejected as stale.
            reporter.abandon();
            return;
          }
        }
        this.log.info("attempt finished", { job: assignment.jobId, status: outcome.status });
        this.finished.delivering(assignment.attemptId);
        this.attempts.delete(assignment.attemptId);
        return reporter.finish(outcome).then(() => this.finished.delivered(assignment.attemptId));
      })
      .finally(() => {
        this.outboxes.delete(outbox);
        this.attempts.delete(assignment.attemptId);
        this.handingBack.delete(assignment.attemptId);
        this.finishing.delete(finished);
      });
    this.finishing.add(finished);
    return { accepted: true };
  }

  private get outboxDir(): string {
    return join(this.config.workDir, "outbox");
  }

  private outboxFor(journal: ReportJournal, alreadyAcknowledged = 0): Outbox {
    const subject = Subjects.reports(this.config.name);
    return new Outbox(this.js as JetStreamClient, subject, journal, this.log, alreadyAcknowledged);
  }

  /**
   * Reports an earlier agent process wrote but did not get acknowledged (NATS was down, or the
   * process died): sent again, in order, in the background. An attempt whose result is among them
   * ended before the restart and is reported as finished, not lost; the others were cut short and
   * the coordinator requeues them.
   */
  private replayJournals(): void {
    for (const pending of ReportJournal.pending(this.outboxDir)) {
      this.ran.add(pending.attemptId);
      const journal = new ReportJournal(this.outboxDir, pending.attemptId);
      if (pending.unacknowledged.length === 0) {
        journal.remove();
        continue;
      }
      this.log.info("delivering reports left by an earlier run", {
        attempt: pending.attemptId,
        reports: pending.unacknowledged.length,
      });
      if (pending.hasResult) this.finished.delivering(pending.attemptId);
      const outbox = this.outboxFor(journal, pending.acknowledged);
      this.outboxes.add(outbox);
      const sent = pending.unacknowledged.map((payload) => {
        const report = JSON.parse(payload) as Report;
        return outbox.send(payload, reportMessageId(report), true);
      });
      void Promise.all(sent).then(() => {
        outbox.finish();
        this.outboxes.delete(outbox);
        if (pending.hasResult) this.finished.delivered(pending.attemptId);
      });
    }
  }

  /** The coordinator no longer counts these attempts as ours (requeued, canceled): stop them. */
  private stopDisowned(attemptIds: string[]): void {
    for (const attemptId of attemptIds) {
      const attempt = this.attempts.get(attemptId);
      if (!attempt) continue;
      this.log.warn("stopping an attempt the coordinator no longer assigns to this agent", {
        attempt: attemptId,
      });
      attempt.stop("canceled");
    }
  }

  private async onCancel(msg: Msg): Promise<{ ok: boolean; known: boolean }> {
    const { attemptId } = parseCancelRequest(msg.data);
    const attempt = this.attempts.get(attemptId);
    attempt?.stop("canceled");
    return { ok: true, known: attempt !== undefined };
  }

  private async onProbe(msg: Msg): Promise<unknown> {
    return probePython(parseProbePythonRequest(msg.data).python);
  }
}
