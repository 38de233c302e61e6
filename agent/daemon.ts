import { join } from "node:path";
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { jobOfAttempt } from "../protocol/attempt-ids.ts";
import { Endpoints } from "../protocol/endpoints.ts";
import { coerceError } from "../protocol/errors.ts";
import { Lifecycle } from "../protocol/lifecycle.ts";
import type { Logger } from "../protocol/logger.ts";
import type {
  Assignment,
  AssignReply,
  CancelReply,
  Heartbeat,
  RegisterRequest,
} from "../protocol/messages.ts";
import { connectNats } from "../protocol/nats-connect.ts";
import { callEndpoint, serveEndpoint } from "../protocol/nats-endpoint.ts";
import { inboxPrefixFor } from "../protocol/subjects.ts";
import { AgentAttempt, type AttemptDeps } from "./attempts/agent-attempt.ts";
import { AttemptBook } from "./attempts/attempt-book.ts";
import type { AgentConfig } from "./config.ts";
import { probePython } from "./cpython/python-check.ts";
import { readHostFacts } from "./link/host-facts.ts";
import { JobProcessRecords } from "./processes/leftover-jobs.ts";
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
const REGISTER_TIMEOUT_MS = 3000;
const HEARTBEAT_TIMEOUT_MS = 2000;

/** The agent daemon: joins the farm over NATS, runs assigned attempts, reports them. */
export class AgentDaemon {
  private readonly lifecycle: Lifecycle<AgentLifecycle>;
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private readonly processRecords: JobProcessRecords;
  /** One record per attempt: its run, reports, outbox and hand-back (see AgentAttempt). */
  private readonly attempts = new AttemptBook();
  private readonly subscriptions: Subscription[] = [];
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;

  constructor(
    private readonly config: AgentConfig,
    private readonly log: Logger,
  ) {
    this.lifecycle = new Lifecycle<AgentLifecycle>("created", "agent", log);
    this.processRecords = new JobProcessRecords(join(config.workDir, "running"));
  }

  get state(): AgentLifecycle {
    return this.lifecycle.state;
  }

  get name(): string {
    return this.config.name;
  }

  async start(): Promise<void> {
    if (!this.lifecycle.is("created")) throw new Error(`agent cannot start from state ${this.state}`);
    const nc = await connectNats(
      { servers: this.config.natsServers, credsFile: this.config.credsFile },
      `memfarm-agent-${this.config.name}`,
      { inboxPrefix: inboxPrefixFor(this.config.name), log: this.log },
    );
    this.nc = nc;
    this.js = jetstream(nc);
    this.processRecords.killLeftovers(this.log);
    this.replayJournals();
    const own = (endpoint: { subject: (agent: string) => string }) => ({
      subject: endpoint.subject(this.config.name),
      log: this.log,
    });
    this.subscriptions.push(
      serveEndpoint(nc, Endpoints.assign, {
        ...own(Endpoints.assign),
        handle: (assignment) => this.onAssign(assignment),
      }),
      serveEndpoint(nc, Endpoints.cancel, {
        ...own(Endpoints.cancel),
        handle: ({ attemptId }) => this.onCancel(attemptId),
      }),
      serveEndpoint(nc, Endpoints.probePython, {
        ...own(Endpoints.probePython),
        handle: ({ python }) => probePython(python),
      }),
    );
    this.lifecycle.set("running", "agent running");
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
    if (!this.lifecycle.is("running")) return;
    this.lifecycle.set("draining", "draining: taking no new jobs, letting running ones finish", {
      running: this.attempts.running().length,
      deadlineSeconds: drainTimeoutMs / 1000,
    });
    this.scheduleHeartbeat(0); // tell the coordinator now, not at the next beat
    const drained = await this.attempts.settled(drainTimeoutMs);
    if (!this.lifecycle.is("draining")) return; // forced meanwhile
    this.lifecycle.set("stopping", "agent stopping");
    if (!drained) {
      const left = this.attempts.running();
      this.log.warn("drain deadline passed: stopping running jobs and handing them back", {
        jobs: left.map((attempt) => attempt.jobId).join(","),
      });
      for (const attempt of left) attempt.handBack();
      await this.attempts.settled(this.config.killGraceMs + RESULT_DELIVERY_DEADLINE_MS);
    }
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    for (const attempt of this.attempts.all()) attempt.close();
    await this.nc?.drain().catch(() => undefined);
    this.lifecycle.set("stopped", "agent stopped");
  }

  /** For a second Ctrl-C: kills every running test tree at once and closes the connection. */
  forceStop(): void {
    this.log.warn("forced stop: killing running jobs", { running: this.attempts.running().length });
    for (const attempt of this.attempts.running()) attempt.forceKill();
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    void this.nc?.close();
    this.lifecycle.set("stopped", "agent stopped (forced)");
  }

  /** Heartbeats and registration go on while the agent runs or drains. */
  private get inFarm(): boolean {
    return this.lifecycle.is("running", "draining");
  }

  private get attemptDeps(): AttemptDeps {
    return {
      config: this.config,
      js: this.js as JetStreamClient,
      nc: this.nc as NatsConnection,
      log: this.log,
      processRecords: this.processRecords,
      outboxDir: join(this.config.workDir, "outbox"),
    };
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
      running: this.attempts.running().map((attempt) => attempt.attemptId),
      finished: this.attempts.finished(),
      draining: this.lifecycle.is("draining"),
    };
    for (let tries = 1; this.inFarm; tries += 1) {
      try {
        const reply = await callEndpoint(
          nc,
          Endpoints.register,
          this.config.name,
          request,
          REGISTER_TIMEOUT_MS,
        );
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
    const running = this.attempts.running();
    const beat: Heartbeat = {
      name: this.config.name,
      usedBytes: running.reduce((sum, attempt) => sum + attempt.currentRssBytes, 0),
      running: running.map((attempt) => attempt.attemptId),
      finished: this.attempts.finished(),
      draining: this.lifecycle.is("draining"),
    };
    try {
      const reply = await callEndpoint(nc, Endpoints.heartbeat, this.config.name, beat, HEARTBEAT_TIMEOUT_MS);
      this.stopDisowned(reply.stop);
      if (reply.reregister) await this.register();
    } catch (thrown) {
      this.log.debug("heartbeat not answered", { error: coerceError(thrown).message });
    } finally {
      if (this.inFarm) this.scheduleHeartbeat();
    }
  }

  private onAssign(assignment: Assignment): AssignReply {
    const { attemptId } = assignment;
    if (this.attempts.get(attemptId)?.isRunning) return { accepted: true };
    if (this.attempts.hasRun(attemptId)) {
      this.log.warn("refused a replayed assignment", { attempt: attemptId });
      return {
        accepted: false,
        reason: `attempt ${attemptId} of job ${jobOfAttempt(attemptId)} already ran on agent ${this.config.name}; a replayed assignment is not run again`,
      };
    }
    if (!this.lifecycle.is("running")) {
      return {
        accepted: false,
        reason: `agent ${this.config.name} is shutting down: it finishes its running jobs and takes no new ones`,
      };
    }
    this.attempts.add(AgentAttempt.start(assignment, this.attemptDeps));
    this.log.info("attempt started", { job: jobOfAttempt(attemptId), attempt: attemptId });
    return { accepted: true };
  }

  /**
   * Reports an earlier agent process wrote but did not get acknowledged (NATS was down, or the
   * process died): sent again, in order, in the background (see AgentAttempt.replay).
   */
  private replayJournals(): void {
    const deps = this.attemptDeps;
    for (const pending of ReportJournal.pending(deps.outboxDir)) {
      if (pending.unacknowledged.length === 0) {
        new ReportJournal(deps.outboxDir, pending.attemptId).remove();
        this.attempts.remember(pending.attemptId);
        continue;
      }
      this.log.info("delivering reports left by an earlier run", {
        attempt: pending.attemptId,
        reports: pending.unacknowledged.length,
      });
      this.attempts.add(AgentAttempt.replay(pending, deps));
    }
  }

  /** The coordinator no longer counts these attempts as ours (requeued, canceled): stop them. */
  private stopDisowned(attemptIds: string[]): void {
    for (const attemptId of attemptIds) {
      const attempt = this.attempts.get(attemptId);
      if (!attempt?.isRunning) continue;
      this.log.warn("stopping an attempt the coordinator no longer assigns to this agent", {
        attempt: attemptId,
      });
      attempt.cancel();
    }
  }

  private onCancel(attemptId: string): CancelReply {
    const attempt = this.attempts.get(attemptId);
    const known = attempt?.isRunning === true;
    if (known) attempt?.cancel();
    return { known };
  }
}
