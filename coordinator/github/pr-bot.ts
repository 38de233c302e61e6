import type { EmitterWebhookEvent } from "@octokit/webhooks";
import { coerceError, MemfarmError } from "../../protocol/errors.ts";
import { isFinalStatus } from "../../protocol/job-status.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { PullRequestProvenance } from "../../protocol/resources.ts";
import { formatBytes, parseMemlimit } from "../../protocol/sizes.ts";
import type { JobService } from "../jobs/job-service.ts";
import type { CheckRunsStore } from "../store/github-check-runs-store.ts";
import type { Store } from "../store/store.ts";
import type { GithubApi } from "./github-client.ts";
import { md } from "./job-report.ts";
import { mayRunJobs, WHO_MAY } from "./permissions.ts";
import { HELP_TEXT, type PrCommand, parsePrCommand } from "./pr-command.ts";
import { type PushPayload, pushedBranch } from "./push-event.ts";

type CommentPayload = EmitterWebhookEvent<"issue_comment">["payload"];
type PullRequestPayload = EmitterWebhookEvent<"pull_request">["payload"];

export interface PrBotDeps {
  jobs: JobService;
  store: Store;
  checkRuns: CheckRunsStore;
  suiteNames: () => string[];
  allowedRepos: Set<string>;
  client: (installationId: number | null) => GithubApi;
  /** A job queued: the feedback sync creates its check run. */
  onQueued: () => void;
  /** A push to a branch of an allowed repository (`owner/name`, lowercase): watches of it look now. */
  onPush?: (repository: string, branch: string) => void;
  log: Logger;
}

/** Labels that ask for a run, as `memfarm: SUITE`. */
const RUN_LABEL = /^memfarm:\s*([a-z][a-z0-9-]{0,62})$/;
const MAX_OPEN_JOBS_PER_PR = 10;

/** Where a request came from: enough to answer on the PR and to queue its job. */
interface Asked {
  api: GithubApi;
  owner: string;
  repo: string;
  repository: string;
  prNumber: number;
  installationId: number | null;
  login: string;
  cloneUrl: string;
  commentUrl: string | null;
}

/**
 * The pull-request bot's reactions to GitHub events: `!memfarm` comments and
 * `memfarm: SUITE` labels. Everything a person typed goes through the
 * command parser and then the same validation as the HTTP API.
 */
export class PrBot {
  constructor(private readonly deps: PrBotDeps) {}

  async handle(event: string, payload: unknown): Promise<void> {
    if (event === "issue_comment") await this.onComment(payload as CommentPayload);
    else if (event === "pull_request") await this.onPullRequest(payload as PullRequestPayload);
    else if (event === "push") this.onPush(payload as PushPayload);
  }

  /** A push to a watched branch: the watch looks its head up now instead of at its next interval. */
  private onPush(payload: PushPayload): void {
    const pushed = pushedBranch(payload);
    if (!pushed || !this.allowed(pushed.repository)) return;
    this.deps.onPush?.(pushed.repository, pushed.branch);
  }

  private allowed(fullName: string | undefined): boolean {
    return fullName !== undefined && this.deps.allowedRepos.has(fullName.toLowerCase());
  }

  private async onComment(payload: CommentPayload): Promise<void> {
    // Edited and deleted comments do nothing: a command is read once, when it is written.
    if (payload.action !== "created") return;
    const { comment, issue, repository } = payload;
    if (!this.allowed(repository?.full_name) || !issue?.pull_request) return;
    if (comment.user?.type === "Bot" || payload.sender?.type === "Bot") return;
    const command = parsePrCommand(comment.body ?? "", this.deps.suiteNames());
    if (command === null) return;
    const asked = this.asked(payload, issue.number, comment.user?.login ?? "", comment.html_url);
    await this.react(asked, comment.id);
    await this.run(asked, command);
  }

  private async onPullRequest(payload: PullRequestPayload): Promise<void> {
    if (payload.action !== "labeled" || !this.allowed(payload.repository?.full_name)) return;
    const suite = RUN_LABEL.exec(payload.label?.name ?? "")?.[1];
    if (suite === undefined || payload.sender?.type === "Bot") return;
    const asked = this.asked(payload, payload.pull_request.number, payload.sender.login, null);
    const command = parsePrCommand(`!memfarm ${suite}`, this.deps.suiteNames()) as PrCommand;
    await this.run(asked, command);
    // Removed whatever came of it, so that adding the label again asks again.
    await this.quietly("remove the label", () =>
      asked.api.rest.issues.removeLabel({
        owner: asked.owner,
        repo: asked.repo,
        issue_number: asked.prNumber,
        name: payload.label?.name ?? "",
      }),
    );
  }

  private asked(
    payload: CommentPayload | PullRequestPayload,
    prNumber: number,
    login: string,
    commentUrl: string | null,
  ): Asked {
    // Present when a GitHub App receives the event; its id picks the installation token.
    const installationId = (payload as { installation?: { id?: number } }).installation?.id ?? null;
    const [owner, repo] = payload.repository.full_name.split("/") as [string, string];
    return {
      api: this.deps.client(installationId),
      owner,
      repo,
      repository: payload.repository.full_name,
      prNumber,
      installationId,
      login,
      cloneUrl: payload.repository.clone_url,
      commentUrl,
    };
  }

  private async run(asked: Asked, command: PrCommand): Promise<void> {
    if (command.kind === "help") {
      await this.reply(asked, HELP_TEXT);
      return;
    }
    if (!(await mayRunJobs(asked.api, asked.owner, asked.repo, asked.login))) {
      this.deps.log.info("GitHub command from a user without permission", {
        user: asked.login,
        repo: asked.repository,
      });
      await this.reply(
        asked,
        `Sorry @${asked.login}, only ${WHO_MAY} can run memfarm jobs. A maintainer can comment the command for you.`,
      );
      return;
    }
    if (command.kind === "invalid") {
      await this.reply(
        asked,
        `I could not run that: ${md(command.problem)}. \`!memfarm help\` lists the commands.`,
      );
      return;
    }
    if (command.kind === "cancel") {
      await this.cancel(asked);
      return;
    }
    await this.queue(asked, command);
  }

  private async queue(asked: Asked, command: Extract<PrCommand, { kind: "run" }>): Promise<void> {
    if (this.openJobs(asked).length >= MAX_OPEN_JOBS_PER_PR) {
      await this.reply(
        asked,
        `This pull request already has ${MAX_OPEN_JOBS_PER_PR} jobs waiting or running; \`!memfarm cancel\` stops them.`,
      );
      return;
    }
    const tooLarge = this.memlimitBeyondEveryHost(command.memlimit);
    if (tooLarge !== null) {
      await this.reply(asked, `I could not queue that: ${tooLarge}`);
      return;
    }
    // The head as it is now: the job runs this commit and its check run is attached to it.
    const { data: pr } = await asked.api.rest.pulls.get({
      owner: asked.owner,
      repo: asked.repo,
      pull_number: asked.prNumber,
    });
    const pullRequest: PullRequestProvenance = {
      repository: asked.repository,
      number: asked.prNumber,
      url: pr.html_url,
      headSha: pr.head.sha,
      baseRef: pr.base.ref,
      commentUrl: asked.commentUrl,
    };
    const body = {
      suite: command.suite,
      ref: `pull/${asked.prNumber}/head`,
      repo: asked.cloneUrl,
      ...(command.memlimit === null ? {} : { memlimit: command.memlimit }),
      ...(command.tests.length === 0 ? {} : { tests: command.tests }),
    };
    let jobId: number;
    try {
      const job = await this.deps.jobs.submit(body, `github:${asked.login}`, {
        source: "github",
        pullRequest,
      });
      jobId = job.id;
    } catch (thrown) {
      if (!(thrown instanceof MemfarmError)) throw thrown;
      await this.reply(asked, `I could not queue that: ${md(thrown.message)}`);
      return;
    }
    this.deps.checkRuns.add({
      jobId,
      repository: asked.repository,
      prNumber: asked.prNumber,
      headSha: pr.head.sha,
      installationId: asked.installationId,
    });
    this.deps.onQueued();
  }

  /**
   * regrtest runs bigmem tests at full size whenever they fit under -M, so a
   * memlimit beyond any host's memory is not a bigger budget but a sure OOM.
   */
  private memlimitBeyondEveryHost(memlimit: string | null): string | null {
    if (memlimit === null) return null;
    const bytes = parseMemlimit(memlimit);
    const largest = Math.max(0, ...this.deps.store.agents.capacities().map((agent) => agent.capacityBytes));
    if (largest === 0 || bytes <= largest) return null;
    return `--memlimit ${md(memlimit)} is more than the largest host of this farm can give a job (${formatBytes(largest)}); ask for ${formatBytes(largest)} or less`;
  }

  private openJobs(asked: Asked) {
    return this.deps.store.jobs
      .list({ repository: asked.repository, pullRequest: asked.prNumber, limit: 500 })
      .jobs.filter((job) => !isFinalStatus(job.status));
  }

  private async cancel(asked: Asked): Promise<void> {
    const canceled: number[] = [];
    for (const job of this.openJobs(asked)) {
      try {
        await this.deps.jobs.cancel(job.id);
        canceled.push(job.id);
      } catch (thrown) {
        // It ended meanwhile: nothing to cancel.
        this.deps.log.debug("cancel from GitHub skipped a job", {
          job: job.id,
          error: coerceError(thrown).message,
        });
      }
    }
    await this.reply(
      asked,
      canceled.length === 0
        ? "No memfarm job of this pull request is waiting or running."
        : `Canceled ${canceled.map((id) => `#${id}`).join(", ")}.`,
    );
  }

  private async react(asked: Asked, commentId: number): Promise<void> {
    await this.quietly("react to the comment", () =>
      asked.api.rest.reactions.createForIssueComment({
        owner: asked.owner,
        repo: asked.repo,
        comment_id: commentId,
        content: "eyes",
      }),
    );
  }

  private async reply(asked: Asked, body: string): Promise<void> {
    await this.quietly("reply on the pull request", () =>
      asked.api.rest.issues.createComment({
        owner: asked.owner,
        repo: asked.repo,
        issue_number: asked.prNumber,
        body,
      }),
    );
  }

  /** A reaction, reply or label removal that fails is logged: the job (if any) is queued all the same. */
  private async quietly(what: string, call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (thrown) {
      this.deps.log.warn(`could not ${what} on GitHub`, { error: coerceError(thrown).message });
    }
  }
}
