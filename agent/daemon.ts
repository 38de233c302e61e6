import { join } from "node:path";
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { coerceError } from "../protocol/errors.ts";
import { jobOfAttempt } from "../protocol/ids.ts";
import { Lifecycle } from "../protocol/lifecycle.ts";
import type { Logger } from "../protocol/logger.ts";
import type { Assignment, AssignReply, CancelReply, ProbePythonReply } from "../protocol/messages.ts";
import { connectNats } from "../protocol/nats-connect.ts";
import { inboxPrefixFor } from "../protocol/subjects.ts";
import { AgentAttempt, type AttemptDeps } from "./attempts/agent-attempt.ts";
import { AttemptBook } from "./attempts/attempt-book.ts";
import type { AgentConfig } from "./config.ts";
import { ProbeCache } from "./cpython/probe-cache.ts";
import { probePython } from "./cpython/python-check.ts";
import { enterDelegatedLeaf } from "./limits/delegated-cgroup.ts";
import { PreparedLimits } from "./limits/index.ts";
import { type AgentStatus, CoordinatorLink } from "./link/coordinator-link.ts";
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

const RESULT_DELIVERY_DEADLINE_MS = 5000;

/** The agent daemon: joins the farm over NATS, runs assigned attempts, reports them. */
export class AgentDaemon {
  private readonly lifecycle: Lifecycle<AgentLifecycle>;
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private readonly processRecords: JobProcessRecords;
  /** One record per attempt: its run, reports, outbox and hand-back (see AgentAttempt). */
  private readonly attempts = new AttemptBook();
  private link: CoordinatorLink | null = null;
  /** Job cgroups made before their jobs arrive; the empty ones go at stop. */
  private readonly limits: PreparedLimits;
  /** Interpreter checks, for jobs and the coordinator's probes alike. */
  private readonly probePython: (python: string) => Promise<ProbePythonReply>;

  constructor(
    private readonly config: AgentConfig,
    private readonly log: Logger,
  ) {
    this.lifecycle = new Lifecycle<AgentLifecycle>("created", "agent", log);
    this.processRecords = new JobProcessRecords(join(config.workDir, "running"));
    this.limits = new PreparedLimits({
      owner: config.name,
      mode: config.limitMode,
      ahead: config.startAhead ? undefined : 0,
    });
    if (config.startAhead) {
      const cache = new ProbeCache();
      this.probePython = (python) => cache.check(python);
    } else {
      this.probePython = probePython;
    }
  }

  get state(): AgentLifecycle {
    return this.lifecycle.state;
  }

  get name(): string {
    return this.config.name;
  }

  async start(): Promise<void> {
    if (!this.lifecycle.is("created")) throw new Error(`agent cannot start from state ${this.state}`);
    // Before any job: its cgroups go beside the agent's leaf in the delegated unit.
    const delegated = await enterDelegatedLeaf().catch((thrown: unknown) => {
      throw new Error(
        `the unit's cgroup is delegated, but the agent could not take it over: ${coerceError(thrown).message}`,
      );
    });
    if (delegated) this.log.info("cgroup delegated by systemd", { detail: delegated });
    const nc = await connectNats(
      { servers: this.config.natsServers, credsFile: this.config.credsFile },
      `memfarm-agent-${this.config.name}`,
      { inboxPrefix: inboxPrefixFor(this.config.name), log: this.log },
    );
    this.nc = nc;
    this.js = jetstream(nc);
    this.processRecords.killLeftovers(this.log);
    // After the leftovers are killed: their prepared groups are empty now, and go.
    await this.limits.start();
    this.replayJournals();
    const link = new CoordinatorLink(nc, this.log, {
      name: this.config.name,
      facts: () =>
        readHostFacts({
          memoryBytes: this.config.memoryBytes,
          labels: this.config.labels,
          blackouts: this.config.blackouts,
        }),
      status: () => this.status(),
      stopDisowned: (attemptIds) => this.stopDisowned(attemptIds),
      assign: (assignment) => this.onAssign(assignment),
      cancel: (attemptId) => this.onCancel(attemptId),
      probePython: this.probePython,
      version: this.config.version,
    });
    this.link = link;
    link.serve();
    this.lifecycle.set("running", "agent running");
    if (!(await link.join())) return; // stopped before the coordinator took it
    this.log.info("agent joined the farm", {
      name: this.config.name,
      nats: this.config.natsServers.join(","),
      version: this.config.version.release,
      protocolVersion: this.config.version.protocol,
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
    this.link?.beatNow(); // tell the coordinator now, not at the next beat
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
    this.link?.close();
    for (const attempt of this.attempts.all()) attempt.close();
    await this.limits.dispose();
    await this.nc?.drain().catch(() => undefined);
    this.lifecycle.set("stopped", "agent stopped");
  }

  /** For a second Ctrl-C: kills every running test tree at once and closes the connection. */
  forceStop(): void {
    this.log.warn("forced stop: killing running jobs", { running: this.attempts.running().length });
    for (const attempt of this.attempts.running()) attempt.forceKill();
    this.limits.disposeNow();
    this.link?.close();
    void this.nc?.close();
    this.lifecycle.set("stopped", "agent stopped (forced)");
  }

  private get attemptDeps(): AttemptDeps {
    return {
      config: this.config,
      js: this.js as JetStreamClient,
      nc: this.nc as NatsConnection,
      log: this.log,
      processRecords: this.processRecords,
      outboxDir: join(this.config.workDir, "outbox"),
      limits: this.limits,
      probePython: this.probePython,
    };
  }

  /** What register and heartbeats say: the attempts running and finished here, the memory in use. */
  private status(): AgentStatus {
    const running = this.attempts.running();
    return {
      running: running.map((attempt) => attempt.attemptId),
      finished: this.attempts.finished(),
      usedBytes: running.reduce((sum, attempt) => sum + attempt.currentRssBytes, 0),
      draining: this.lifecycle.is("draining"),
    };
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
