import { ConflictError, NotFoundError, ValidationError } from "../../protocol/errors.ts";
import { isFullCommitSha } from "../../protocol/git-refs.ts";
import { AgentState, isFinalStatus } from "../../protocol/job-status.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { ProbePythonReply } from "../../protocol/messages.ts";
import type { JobResource, Provenance } from "../../protocol/resources.ts";
import type { Transitions } from "../attempts/transitions.ts";
import { whyNeverRunnable } from "../placement/index.ts";
import type { Store } from "../store/store.ts";
import { type JobRequest, parseJobRequest } from "./job-request.ts";
import { learnedReservation } from "./learned-reservation.ts";
import { nearestName } from "./nearest-name.ts";
import { reservationAdvice } from "./reservation-advice.ts";
import { regrtestArgs, reservationFor, type Suite, workersFor } from "./suites.ts";

export interface JobServiceDeps {
  store: Store;
  transitions: Transitions;
  log: Logger;
  suites: Map<string, Suite>;
  probePython: (agents: string[], python: string) => Promise<Map<string, ProbePythonReply>>;
  cancelAttempt: (agent: string, attemptId: string) => Promise<boolean>;
  wakeScheduler: () => void;
}

/** What people do with jobs: submit, cancel, retry. The HTTP API and, later, the PR bot call this. */
const AGENTS_TO_PROBE = 3;
const INTERPRETER_CHECK_TTL_MS = 10 * 60_000;

export class JobService {
  /** Interpreter paths an agent confirmed recently, when, and the test files it has (null: not told). */
  private readonly usableInterpreters = new Map<string, { at: number; tests: Set<string> | null }>();

  constructor(private readonly deps: JobServiceDeps) {}

  /**
   * `origin`: set by the PR bot (source `github` and the pull request), a watch (source `watch`,
   * its name, and the head to pin) or a bisection (source `bisect`, its regression, and the commit
   * to probe), which the API body cannot claim.
   */
  async submit(
    body: unknown,
    requester: string,
    origin?: Pick<Provenance, "source" | "pullRequest" | "watch" | "bisect"> & { commit?: string },
  ): Promise<JobResource> {
    const request = parseJobRequest(body, this.deps.suites);
    if (request.python !== null) {
      const known = await this.checkInterpreter(request.python);
      // An interpreter that listed no test at all (a stand-in that runs tests of its own) tells nothing.
      if (known !== null && known.size > 0) refuseUnknownTests(request, known);
    }
    const workers = workersFor(request.suite, request.workers, request.tests);
    const reservation = reservationFor(request.suite, request.memlimitBytes, workers);
    const learned = learnedReservation(
      reservation,
      // Runs with as many workers at the same memlimit reserved the same: a 1-worker run says little of -j4.
      this.deps.store.jobs.pastRuns(request.suite.name, request.memlimitBytes, 50, reservation),
    );
    this.refuseIfNeverRunnable(learned ?? reservation, { ...request, workers });
    // A pull request's job runs its head as it was when the command was read, whatever is pushed later.
    // A watch's job runs the head it saw.
    const { commit, ...claimed } = origin ?? {};
    const headSha = commit ?? origin?.pullRequest?.headSha;
    const pinned = headSha && isFullCommitSha(headSha) ? headSha : undefined;
    const job = this.deps.transitions.queueJob(
      {
        suite: request.suite.name,
        priority: request.priority,
        memlimitBytes: request.memlimitBytes,
        reservationBytes: reservation,
        python: request.python,
        ref: request.build?.ref ?? null,
        repo: request.build?.repo ?? null,
        configureFlags: request.suite.build.configureFlags,
        noOutputTimeoutSeconds: request.suite.noOutputTimeoutSeconds,
        exclusive: request.exclusive,
        scheduledBytes: learned,
        tests: request.tests,
        labels: request.labels,
        provenance: { source: request.source, requester, ...claimed },
        args: regrtestArgs(request.suite, request.memlimitBytes, request.tests, workers),
        timeoutSeconds: request.suite.timeoutSeconds,
      },
      pinned,
    );
    this.deps.log.info("job queued", { job: job.id, suite: job.suite, requester });
    this.deps.wakeScheduler();
    return job;
  }

  async cancel(jobId: number): Promise<JobResource> {
    const job = this.find(jobId);
    if (isFinalStatus(job.status)) {
      throw new ConflictError(
        "job_finished",
        `job ${jobId} already ended as ${job.status}; nothing to cancel`,
      );
    }
    if (!this.deps.transitions.cancelQueuedJob(jobId)) {
      this.deps.transitions.requestCancel(jobId);
      const attempt = job.attempts.at(-1);
      if (job.agent && attempt) await this.deps.cancelAttempt(job.agent, attempt.id);
    }
    return this.find(jobId);
  }

  /** A finished job runs again as a new job with the same request; the old one keeps its result. */
  async retry(jobId: number, requester: string): Promise<JobResource> {
    const job = this.find(jobId);
    if (!isFinalStatus(job.status)) {
      throw new ConflictError(
        "job_not_finished",
        `job ${jobId} is ${job.status}; retry a job once it has ended`,
      );
    }
    const copy = this.deps.transitions.queueJob({
      suite: job.suite,
      priority: job.priority,
      memlimitBytes: job.memlimitBytes,
      reservationBytes: job.reservationBytes,
      python: job.python,
      ref: job.ref,
      repo: job.repo,
      configureFlags: job.configureFlags,
      noOutputTimeoutSeconds: job.noOutputTimeoutSeconds,
      exclusive: job.exclusive,
      scheduledBytes: job.scheduledBytes,
      tests: job.tests,
      labels: job.labels,
      provenance: { source: job.provenance.source, requester, retryOf: job.id },
      args: job.args,
      timeoutSeconds: job.timeoutSeconds,
    });
    this.deps.wakeScheduler();
    return copy;
  }

  find(jobId: number): JobResource {
    const job = this.deps.store.jobs.get(jobId);
    if (!job) throw new NotFoundError(`job ${jobId} does not exist; memfarm jobs lists the jobs`);
    return job;
  }

  /**
   * Asks a few online agents whether the interpreter is usable there. If all
   * that answered say no, the request is refused now rather than failing later
   * on a host; with no agent online it is accepted and checked again on the
   * agent before it runs. A yes is remembered for a while, so a farm of a
   * thousand agents does not start a thousand interpreters per submit.
   */
  /**
   * A job no registered agent could ever run is refused now with the reason,
   * rather than queued forever. With no agent registered (or all lost) it is
   * accepted and waits, with the reason shown, for one to join.
   */
  private refuseIfNeverRunnable(
    reservationBytes: number,
    job: Pick<JobRequest, "suite" | "memlimitBytes" | "labels"> & { workers: number },
  ): void {
    const agents = this.deps.store.agents.capacities().map((agent) => ({ ...agent, running: [] }));
    if (!agents.some((agent) => agent.state !== AgentState.lost)) return;
    const reason = whyNeverRunnable({ reservationBytes, labels: job.labels }, agents);
    if (reason !== null) {
      const advice = reservationAdvice(job, agents) ?? "ask for other labels (--label)";
      throw new ValidationError(
        "never_runnable",
        `no agent of this farm can ever run this job: ${reason}; ${advice}`,
      );
    }
  }

  /** Resolves to the test files the interpreter has, where an agent listed them; else null. */
  private async checkInterpreter(python: string): Promise<Set<string> | null> {
    const confirmed = this.usableInterpreters.get(python);
    if (confirmed !== undefined && Date.now() - confirmed.at < INTERPRETER_CHECK_TTL_MS)
      return confirmed.tests;
    const online = this.deps.store.agents
      .capacities()
      .filter((agent) => agent.state === AgentState.online)
      .map((agent) => agent.name);
    if (online.length === 0) return null;
    const sample = online.sort(() => Math.random() - 0.5).slice(0, AGENTS_TO_PROBE);
    const replies = await this.deps.probePython(sample, python);
    if (replies.size === 0) return null;
    const usable = [...replies.values()].filter((reply) => reply.usable);
    if (usable.length > 0) {
      // A test that any of the agents has may run there: the union, and only when every one listed.
      const tests = usable.every((reply) => reply.tests !== undefined && reply.tests.length > 0)
        ? new Set(usable.flatMap((reply) => reply.tests ?? []))
        : null;
      this.usableInterpreters.set(python, { at: Date.now(), tests });
      return tests;
    }
    const [agent, reply] = [...replies.entries()][0] as [string, ProbePythonReply];
    throw new ValidationError(
      "python_not_usable",
      `python: no online agent can run ${python} (${agent}: ${reply.problem ?? "unusable"}); give the path of an interpreter installed on the agents`,
      "python",
    );
  }
}

/**
 * A job that names a test the interpreter does not have is refused, with the nearest name, rather
 * than run to regrtest's "No tests ran". Suites that run tests of their own directory (--testdir)
 * are not checked: the agents listed Lib/test, not that directory.
 */
function refuseUnknownTests(request: JobRequest, known: Set<string>): void {
  if (request.suite.args.some((arg) => arg === "--testdir" || arg.startsWith("--testdir="))) return;
  for (const name of request.tests) {
    // regrtest takes test_os, test.test_os and test_asyncio.test_tasks: the file is the first part.
    const file = name.replace(/^test\./, "").split(".")[0] ?? name;
    if (known.has(file) || request.suite.tests.includes(name)) continue;
    const nearest = nearestName(file, known);
    throw new ValidationError(
      "unknown_test",
      `tests: ${request.python} has no test named ${name}${nearest ? `; did you mean ${nearest}?` : ""}`,
      "tests",
    );
  }
}
