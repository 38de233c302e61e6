import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { jobOfAttempt } from "../../protocol/ids.ts";
import type { Logger } from "../../protocol/logger.ts";
import {
  type Assignment,
  type ProbePythonReply,
  type Report,
  reportMessageId,
} from "../../protocol/messages.ts";
import { Subjects } from "../../protocol/subjects.ts";
import type { AgentConfig } from "../config.ts";
import type { PreparedLimits } from "../limits/index.ts";
import type { JobProcessRecords } from "../processes/leftover-jobs.ts";
import { AttemptReporter } from "../reports/attempt-reporter.ts";
import { Outbox } from "../reports/outbox.ts";
import type { PendingJournal } from "../reports/report-journal.ts";
import { ReportJournal } from "../reports/report-journal.ts";
import { handBackAttempt } from "./hand-back.ts";
import { RunningAttempt } from "./run-attempt.ts";

/**
 * Where an attempt is on this agent:
 *
 *   running → (handing_back →) reporting → reported    (or handing_back → handed_back)
 *
 * - running: its process tree runs; heartbeats name it as running.
 * - handing_back: the agent's drain deadline passed and it was stopped to be given back.
 * - reporting: it ended and its result is on its way through its outbox (or, replayed from an
 *   earlier process's journal, its reports are); heartbeats name it as finished, not lost.
 * - reported: the stream has everything; still named as finished for a while (the coordinator
 *   applies results a moment after the stream has them).
 * - handed_back: the coordinator took it back; nothing more of it is sent.
 * - cut_short: replayed from an earlier process's journal without a result (that process died
 *   mid-run): its reports are sent, and heartbeats do not name it, so the coordinator requeues it.
 */
export type AttemptPhase =
  | "running"
  | "handing_back"
  | "reporting"
  | "reported"
  | "handed_back"
  | "cut_short";

/** How long a delivered result is still named in heartbeats: long enough for the coordinator to apply it. */
export const KEEP_REPORTED_MS = 120_000;

/**
 * Whether heartbeats name an attempt as finished: while its result is on its way, and for
 * KEEP_REPORTED_MS after the stream had it (the coordinator applies results a moment later).
 */
export function namedAsFinished(phase: AttemptPhase, reportedAtMs: number | null, nowMs: number): boolean {
  if (phase === "reporting") return true;
  return phase === "reported" && reportedAtMs !== null && nowMs - reportedAtMs <= KEEP_REPORTED_MS;
}

export interface AttemptDeps {
  config: AgentConfig;
  js: JetStreamClient;
  nc: NatsConnection;
  log: Logger;
  processRecords: JobProcessRecords;
  outboxDir: string;
  /** The agent's job cgroups, made ahead. */
  limits: PreparedLimits;
  /** The agent's interpreter check (cached per interpreter file). */
  probePython: (python: string) => Promise<ProbePythonReply>;
}

/**
 * One attempt on this agent and everything it owns: its run, its reporter and outbox (and so its
 * journal), its hand-back. The daemon keeps one of these per attempt instead of parallel sets.
 */
export class AgentAttempt {
  /** Resolves once the attempt is over here: reported, handed back, or closed by a shutdown. */
  readonly settled: Promise<void>;
  private current: AttemptPhase;
  private reportedAtMs: number | null = null;
  private over = false;
  private readonly run: RunningAttempt | null;
  private readonly outbox: Outbox;

  private constructor(
    readonly attemptId: string,
    private readonly deps: AttemptDeps,
    journal: ReportJournal,
    start: (attempt: AgentAttempt) => { run: RunningAttempt | null; settled: Promise<void> },
    acknowledged = 0,
  ) {
    this.outbox = new Outbox(deps.js, Subjects.reports(deps.config.name), journal, deps.log, acknowledged);
    this.current = "running";
    const started = start(this);
    this.run = started.run;
    this.settled = started.settled.finally(() => {
      this.over = true;
    });
  }

  /** Runs a new assignment: its reports go through a new journal and outbox. */
  static start(assignment: Assignment, deps: AttemptDeps): AgentAttempt {
    const journal = new ReportJournal(deps.outboxDir, assignment.attemptId);
    return new AgentAttempt(assignment.attemptId, deps, journal, (attempt) => {
      const reporter = new AttemptReporter(assignment.attemptId, attempt.outbox);
      const { config } = deps;
      const run = new RunningAttempt(assignment, {
        workDir: config.workDir,
        sampleIntervalMs: config.sampleIntervalMs,
        onLog: (line) => reporter.addLog(line),
        onSample: (sample) => reporter.addSample(sample),
        onTests: (records) => reporter.addTests(records),
        onCommit: (commit, commitTime) => reporter.setCommit(commit, commitTime),
        onPythonVersion: (version) => reporter.setPythonVersion(version),
        killGraceMs: config.killGraceMs,
        allowLocalRepos: config.allowLocalRepos,
        createLimit: (request) => deps.limits.create(request),
        probePython: deps.probePython,
        ...(config.buildCacheBytes === undefined ? {} : { buildCacheBytes: config.buildCacheBytes }),
        onStarted: () => reporter.markStarted(),
        processRecords: deps.processRecords,
      });
      return { run, settled: attempt.report(run, reporter) };
    });
  }

  /**
   * Sends again, in order, the reports an earlier agent process wrote and did not get
   * acknowledged. An attempt whose result is among them ended before the restart and is named as
   * finished meanwhile, not lost; the others were cut short and the coordinator requeues them.
   */
  static replay(pending: PendingJournal, deps: AttemptDeps): AgentAttempt {
    const journal = new ReportJournal(deps.outboxDir, pending.attemptId);
    const attempt = new AgentAttempt(
      pending.attemptId,
      deps,
      journal,
      (self) => {
        self.current = pending.hasResult ? "reporting" : "cut_short";
        const sent = pending.unacknowledged.map((payload) =>
          self.outbox.send(payload, reportMessageId(JSON.parse(payload) as Report), true),
        );
        const settled = Promise.all(sent).then(() => {
          self.outbox.finish();
          if (pending.hasResult) self.markReported();
        });
        return { run: null, settled };
      },
      pending.acknowledged,
    );
    return attempt;
  }

  get phase(): AttemptPhase {
    return this.current;
  }

  get jobId(): string {
    return jobOfAttempt(this.attemptId);
  }

  /** Nothing of it runs or waits to be sent any more. */
  get isOver(): boolean {
    return this.over;
  }

  /** Its tree is alive here (running, or being stopped to be handed back). */
  get isRunning(): boolean {
    return this.current === "running" || this.current === "handing_back";
  }

  /** Ended here with its result on its way or just delivered (see namedAsFinished). */
  isFinished(nowMs = Date.now()): boolean {
    return namedAsFinished(this.current, this.reportedAtMs, nowMs);
  }

  /** The tree's resident memory at the latest sample. */
  get currentRssBytes(): number {
    return this.run?.currentRssBytes ?? 0;
  }

  /** The coordinator no longer counts it as ours, or a person canceled it. */
  cancel(): void {
    this.run?.stop("canceled");
  }

  /** The agent's drain deadline passed: stop it and give the job back to the coordinator. */
  handBack(): void {
    if (this.current !== "running" || !this.run) return;
    this.current = "handing_back";
    this.run.stop("shutdown");
  }

  /** For a forced exit: kills the tree at once. */
  forceKill(): void {
    this.run?.forceKill();
  }

  /** Stops retrying its reports; what is not acknowledged stays in the journal for the next process. */
  close(): void {
    this.outbox.close();
  }

  private async report(run: RunningAttempt, reporter: AttemptReporter): Promise<void> {
    const outcome = await run.done;
    const { nc, config, log } = this.deps;
    if (this.current === "handing_back") {
      const reason = "it shut down and its drain deadline passed";
      if (await handBackAttempt(nc, config.name, this.attemptId, reason, log)) {
        // The job runs again elsewhere; this attempt's last words would only be rejected as stale.
        reporter.abandon();
        this.current = "handed_back";
        return;
      }
    }
    log.info("attempt finished", { job: this.jobId, status: outcome.status });
    this.current = "reporting";
    await reporter.finish(outcome);
    this.markReported();
  }

  private markReported(): void {
    this.current = "reported";
    this.reportedAtMs = Date.now();
  }
}
