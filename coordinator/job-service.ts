import { ConflictError, NotFoundError, ValidationError } from "../protocol/errors.ts";
import { AgentState, isFinalStatus } from "../protocol/job-status.ts";
import type { Logger } from "../protocol/logger.ts";
import type { ProbePythonReply } from "../protocol/messages.ts";
import type { JobResource } from "../protocol/resources.ts";
import type { FarmEvents } from "./events.ts";
import { parseJobRequest } from "./job-request.ts";
import type { Store } from "./store/store.ts";
import { regrtestArgs, reservationFor, type Suite } from "./suites.ts";

export interface JobServiceDeps {
  store: Store;
  events: FarmEvents;
  log: Logger;
  suites: Map<string, Suite>;
  probePython: (agents: string[], python: string) => Promise<Map<string, ProbePythonReply>>;
  cancelAttempt: (agent: string, attemptId: string) => Promise<boolean>;
  wakeScheduler: () => void;
}

/** What people do with jobs: submit, cancel, retry. The HTTP API and, later, the PR bot call this. */
export class JobService {
  constructor(private readonly deps: JobServiceDeps) {}

  async submit(body: unknown, requester: string): Promise<JobResource> {
    const request = parseJobRequest(body, this.deps.suites);
    if (request.python !== null) await this.checkInterpreter(request.python);
    const job = this.deps.store.jobs.insert({
      suite: request.suite.name,
      priority: request.priority,
      memlimitBytes: request.memlimitBytes,
      reservationBytes: reservationFor(request.suite, request.memlimitBytes),
      python: request.python,
      ref: request.build?.ref ?? null,
      repo: request.build?.repo ?? null,
      configureFlags: request.suite.build.configureFlags,
      noOutputTimeoutSeconds: request.suite.noOutputTimeoutSeconds,
      tests: request.tests,
      labels: request.labels,
      provenance: { source: request.source, requester },
      args: regrtestArgs(request.suite, request.memlimitBytes, request.tests),
      timeoutSeconds: request.suite.timeoutSeconds,
    });
    this.deps.log.info("job queued", { job: job.id, suite: job.suite, requester });
    this.deps.events.emit("job", job);
    this.deps.wakeScheduler();
    return job;
  }

  async cancel(jobId: number): Promise<JobResource> {
    const { store } = this.deps;
    const job = this.find(jobId);
    if (isFinalStatus(job.status)) {
      throw new ConflictError(
        "job_finished",
        `job ${jobId} already ended as ${job.status}; nothing to cancel`,
      );
    }
    if (store.jobs.cancelQueued(jobId)) {
      this.deps.log.info("job canceled while queued", { job: jobId });
    } else {
      store.jobs.markCancelRequested(jobId);
      const attempt = job.attempts.at(-1);
      if (job.agent && attempt) await this.deps.cancelAttempt(job.agent, attempt.id);
    }
    const updated = this.find(jobId);
    this.deps.events.emit("job", updated);
    return updated;
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
    const copy = this.deps.store.jobs.insert({
      suite: job.suite,
      priority: job.priority,
      memlimitBytes: job.memlimitBytes,
      reservationBytes: job.reservationBytes,
      python: job.python,
      ref: job.ref,
      repo: job.repo,
      configureFlags: job.configureFlags,
      noOutputTimeoutSeconds: job.noOutputTimeoutSeconds,
      tests: job.tests,
      labels: job.labels,
      provenance: { source: job.provenance.source, requester, retryOf: job.id },
      args: job.args,
      timeoutSeconds: job.timeoutSeconds,
    });
    this.deps.events.emit("job", copy);
    this.deps.wakeScheduler();
    return copy;
  }

  find(jobId: number): JobResource {
    const job = this.deps.store.jobs.get(jobId);
    if (!job) throw new NotFoundError(`job ${jobId} does not exist; memfarm jobs lists the jobs`);
    return job;
  }

  /**
   * Asks the online agents whether the interpreter is usable there. If every
   * agent that answered says no, the request is refused now rather than
   * failing later on a host; with no agent online it is accepted and checked
   * again on the agent before it runs.
   */
  private async checkInterpreter(python: string): Promise<void> {
    const online = this.deps.store.agents
      .capacities()
      .filter((agent) => agent.state === AgentState.online)
      .map((agent) => agent.name);
    if (online.length === 0) return;
    const replies = await this.deps.probePython(online, python);
    if (replies.size === 0 || [...replies.values()].some((reply) => reply.usable)) return;
    const [agent, reply] = [...replies.entries()][0] as [string, ProbePythonReply];
    throw new ValidationError(
      "python_not_usable",
      `python: no online agent can run ${python} (${agent}: ${reply.problem ?? "unusable"}); give the path of an interpreter installed on the agents`,
      "python",
    );
  }
}
