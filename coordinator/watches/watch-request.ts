import { parseDuration } from "../../protocol/durations.ts";
import { ValidationError } from "../../protocol/errors.ts";
import { checkGitRef, isCommitSha, isPullRequestRef } from "../../protocol/git-refs.ts";
import type { WatchResource } from "../../protocol/resources.ts";
import {
  readBoolean,
  readObject,
  readOptionalString,
  readString,
  rejectUnknownKeys,
} from "../../protocol/validate.ts";
import { parseJobRequest } from "../jobs/job-request.ts";
import type { Suite } from "../jobs/suites.ts";
import type { NewWatch } from "../store/watches-store.ts";

/** A watch's name: a word for URLs and the command line. */
const WATCH_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const DEFAULT_EVERY_MS = 15 * 60_000;
/** Often enough for a test farm; a real branch is looked up every few minutes at most. */
const MIN_EVERY_MS = 1_000;
const MAX_EVERY_MS = 7 * 24 * 3_600_000;

const KNOWN_FIELDS = [
  "name",
  "repo",
  "branch",
  "suite",
  "memlimit",
  "tests",
  "labels",
  "every",
  "commentOnCulprit",
];

/** The job request a watch's jobs are made from (a head's job, or a bisection's probe with `tests` narrowed). */
export function watchJobRequest(watch: WatchResource): Record<string, unknown> {
  return {
    suite: watch.suite,
    ref: watch.branch,
    repo: watch.repo,
    ...(watch.memlimitBytes === null ? {} : { memlimit: String(watch.memlimitBytes) }),
    tests: watch.tests,
    labels: watch.labels,
  };
}

export function checkWatchName(name: string, field = "name"): string {
  if (!WATCH_NAME.test(name)) {
    throw new ValidationError(
      "invalid_watch_name",
      `${field}: ${JSON.stringify(name.slice(0, 80))} is not a watch name; use lowercase letters, digits and . _ - (at most 63), like main-bigmem`,
      field,
    );
  }
  return name;
}

/**
 * Validates a `POST /watches` body. What each new head runs is checked as a job request would be
 * (the suite, the memlimit, the tests, the labels, the repository), so a watch cannot queue a job
 * the farm would refuse; the branch must be a branch, not a tag, a commit or a pull request.
 */
export function parseWatchRequest(body: unknown, suites: Map<string, Suite>, requester: string): NewWatch {
  const fields = readObject(body, "the request body");
  rejectUnknownKeys(fields, KNOWN_FIELDS);
  const name = checkWatchName(readString(fields, "name"));
  const branch = checkGitRef(readString(fields, "branch"), "branch").replace(/^refs\/heads\//, "");
  if (isCommitSha(branch) || isPullRequestRef(branch) || branch.startsWith("refs/")) {
    throw new ValidationError(
      "invalid_branch",
      `branch: ${JSON.stringify(branch)} is not a branch name; a watch follows a branch such as main or 3.13`,
      "branch",
    );
  }
  const job = parseJobRequest(
    {
      suite: fields.suite,
      ref: branch,
      ...(fields.repo === undefined ? {} : { repo: fields.repo }),
      ...(fields.memlimit === undefined ? {} : { memlimit: fields.memlimit }),
      ...(fields.tests === undefined ? {} : { tests: fields.tests }),
      ...(fields.labels === undefined ? {} : { labels: fields.labels }),
    },
    suites,
  );
  const every = readOptionalString(fields, "every");
  return {
    name,
    repo: job.build?.repo ?? "",
    branch,
    suite: job.suite.name,
    memlimitBytes: job.memlimitBytes,
    tests: job.tests,
    labels: job.labels,
    everySeconds:
      every === undefined
        ? DEFAULT_EVERY_MS / 1000
        : Math.round(parseDuration(every, "every", { minMs: MIN_EVERY_MS, maxMs: MAX_EVERY_MS }) / 1000),
    commentOnCulprit: fields.commentOnCulprit === undefined ? false : readBoolean(fields, "commentOnCulprit"),
    requester,
  };
}
