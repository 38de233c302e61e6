import { coerceError } from "../../protocol/errors.ts";
import { isFinalStatus } from "../../protocol/job-status.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { JobResource } from "../../protocol/resources.ts";
import type { CheckRunRecord, CheckRunsStore } from "../store/github-check-runs-store.ts";
import type { Store } from "../store/store.ts";
import type { BaseComparer } from "./base-comparison.ts";
import type { GithubApi } from "./github-client.ts";
import {
  conclusionFor,
  type JobReportInput,
  reportComment,
  reportSummary,
  reportTitle,
} from "./job-report.ts";
import { jobReportInput } from "./job-report-input.ts";

export interface FeedbackSyncDeps {
  store: Store;
  checkRuns: CheckRunsStore;
  comparer: BaseComparer;
  client: (installationId: number | null) => GithubApi;
  jobUrl: (jobId: number) => string;
  log: Logger;
  retryBaseMs: number;
}

/** Longest wait between two tries of the same feedback. */
const MAX_BACKOFF_MS = 15 * 60_000;
/** After this many failed tries in a row GitHub is not going to take it; the row stays for a person to see. */
const MAX_FAILURES = 40;
/** GitHub answers that no retry will change (the check run or PR is gone, the request is malformed). */
const PERMANENT_STATUSES = new Set([400, 404, 410, 422]);

/**
 * Brings GitHub up to date with the jobs the bot queued: creates the check
 * run (in progress), completes it with the report when the job ends, then
 * posts the PR comment. What GitHub was told is in the store, so a call that
 * fails is retried with backoff and a restarted coordinator picks up where the
 * last one stopped. One pass at a time; wake() during a pass runs another.
 */
export class FeedbackSync {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: FeedbackSyncDeps) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.deps.retryBaseMs);
    this.wake();
  }

  /** Stops the retry timer and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.passes().finally(() => {
      this.running = null;
    });
  }

  /** Resolves once no pass is running; for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async passes(): Promise<void> {
    do {
      this.again = false;
      for (const record of this.deps.checkRuns.due()) {
        if (this.stopped) return;
        await this.syncOne(record);
      }
    } while (this.again && !this.stopped);
  }

  private async syncOne(record: CheckRunRecord): Promise<void> {
    const job = this.deps.store.jobs.get(record.jobId);
    if (!job) return;
    const final = isFinalStatus(job.status);
    if (record.reported === "completed" || (record.reported === "in_progress" && !final)) {
      if (record.reported === "completed" && !record.commentPosted)
        await this.tryStep(record, () => this.comment(record, job));
      return;
    }
    const done = await this.tryStep(record, () => this.updateCheckRun(record, job, final));
    if (done && final) await this.tryStep({ ...record, failures: 0 }, () => this.comment(record, job));
  }

  private async tryStep(record: CheckRunRecord, step: () => Promise<void>): Promise<boolean> {
    try {
      await step();
      return true;
    } catch (thrown) {
      const error = coerceError(thrown);
      const status = (thrown as { status?: number }).status ?? 0;
      const failures = record.failures + 1;
      const gaveUp = PERMANENT_STATUSES.has(status) || failures >= MAX_FAILURES;
      const delay = Math.min(MAX_BACKOFF_MS, this.deps.retryBaseMs * 2 ** Math.min(failures - 1, 10));
      this.deps.checkRuns.markFailed(record.jobId, error.message, new Date(Date.now() + delay), gaveUp);
      this.deps.log.warn(
        gaveUp ? "GitHub refused the job's feedback; giving up" : "GitHub feedback failed; will retry",
        {
          job: record.jobId,
          status,
          error: error.message,
          retryInMs: gaveUp ? null : delay,
        },
      );
      return false;
    }
  }

  private async updateCheckRun(record: CheckRunRecord, job: JobResource, final: boolean): Promise<void> {
    const [owner, repo] = record.repository.split("/") as [string, string];
    const api = this.deps.client(record.installationId);
    const detailsUrl = this.deps.jobUrl(job.id);
    const fields = final
      ? (() => {
          const input = this.reportInput(job);
          return {
            status: "completed" as const,
            conclusion: conclusionFor(job.status),
            completed_at: job.finishedAt ?? new Date().toISOString(),
            output: { title: reportTitle(job), summary: reportSummary(input) },
          };
        })()
      : {
          status: "in_progress" as const,
          output: {
            title: `${job.status} on memfarm`,
            summary: `Job [#${job.id}](${detailsUrl}) is ${job.status}.`,
          },
        };
    let checkRunId = record.checkRunId;
    if (checkRunId === null) {
      const created = await api.rest.checks.create({
        owner,
        repo,
        name: `memfarm / ${job.suite}`,
        head_sha: record.headSha,
        details_url: detailsUrl,
        external_id: String(job.id),
        started_at: job.createdAt,
        ...fields,
      });
      checkRunId = created.data.id;
    } else {
      await api.rest.checks.update({
        owner,
        repo,
        check_run_id: checkRunId,
        details_url: detailsUrl,
        ...fields,
      });
    }
    this.deps.checkRuns.markReported(job.id, final ? "completed" : "in_progress", checkRunId);
  }

  private async comment(record: CheckRunRecord, job: JobResource): Promise<void> {
    const [owner, repo] = record.repository.split("/") as [string, string];
    await this.deps.client(record.installationId).rest.issues.createComment({
      owner,
      repo,
      issue_number: record.prNumber,
      body: reportComment(this.reportInput(job)),
    });
    this.deps.checkRuns.markCommentPosted(job.id);
  }

  private reportInput(job: JobResource): JobReportInput {
    return jobReportInput(this.deps.store.tests, this.deps.comparer, job, this.deps.jobUrl(job.id));
  }
}
