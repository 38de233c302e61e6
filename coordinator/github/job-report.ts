import { describeCounts } from "../../protocol/messages.ts";
import type { JobResource, TestResource } from "../../protocol/resources.ts";
import { formatBytes } from "../../protocol/sizes.ts";
import type { BaseComparison } from "./base-comparison.ts";

/** How many tests the "top by peak memory" table lists. */
const TOP_TESTS = 10;
/** Failing tests listed by name before "and N more". */
const FAILED_SHOWN = 30;

export type CheckConclusion = "success" | "failure" | "cancelled" | "neutral";

/** DESIGN.md: success for passed; failure for failed, oom and timed_out; cancelled; neutral for error. */
export function conclusionFor(status: JobResource["status"]): CheckConclusion {
  switch (status) {
    case "passed":
      return "success";
    case "canceled":
      return "cancelled";
    case "error":
      return "neutral";
    default:
      return "failure";
  }
}

export interface JobReportInput {
  job: JobResource;
  tests: TestResource[];
  comparison: BaseComparison | null;
  baseRef: string;
  jobUrl: string;
}

/** The outcome in words, with what an OOM, a timeout or an error means for the person reading. */
export function outcomeInWords(job: JobResource): string {
  const limit = formatBytes(job.limitBytes ?? job.memlimitBytes);
  switch (job.status) {
    case "passed":
      return "passed: every test that ran passed";
    case "failed":
      return `failed: ${job.failedTests.length || job.counts?.failed || "some"} test(s) failed (regrtest exit code ${job.exitCode ?? "-"})`;
    case "oom":
      return `out of memory: the tests' process tree reached the job's memory limit of ${limit} and was killed (${job.limitKind ?? "limit"}); this is not a test failure, the change may need more memory than the suite allows`;
    case "timed_out":
      return `timed out: the job ran past its time limit (${job.timeoutSeconds} s) or printed nothing for ${job.noOutputTimeoutSeconds} s, and was stopped`;
    case "canceled":
      return "canceled before it finished";
    case "error":
      return `the farm could not run the tests: ${job.error ?? "unknown reason"}`;
    default:
      return job.status;
  }
}

/** The check run's title: one line, shown next to its name. */
export function reportTitle(job: JobResource): string {
  const peak = job.peakRssBytes === null ? "" : `, peak ${formatBytes(job.peakRssBytes)}`;
  const failed =
    job.status === "failed" ? `, ${job.failedTests.length || job.counts?.failed || 0} failed` : "";
  return `${job.status}${failed}${peak}`.slice(0, 200);
}

/** The check run's Markdown summary. */
export function reportSummary({ job, tests, comparison, baseRef, jobUrl }: JobReportInput): string {
  const lines = [
    `**Outcome:** ${md(outcomeInWords(job))}`,
    "",
    "| | |",
    "|---|---|",
    `| Duration | ${formatDuration(job.durationSeconds)} |`,
    `| True peak memory (process tree) | ${formatBytes(job.peakRssBytes)} |`,
    `| Memory limit | ${formatBytes(job.limitBytes ?? job.memlimitBytes)}${job.limitKind ? ` (${job.limitKind})` : ""} |`,
    `| Commit | \`${job.commit ?? job.ref ?? "-"}\` |`,
    `| Tests | ${describeCounts(job.counts)} |`,
    `| Job | [#${job.id}](${jobUrl}) |`,
  ];
  const moved = headMoved(job);
  if (moved) lines.push("", moved);
  if (job.failedTests.length > 0) {
    lines.push("", "### Failing tests", "");
    for (const name of job.failedTests.slice(0, FAILED_SHOWN)) lines.push(`- \`${md(name)}\``);
    if (job.failedTests.length > FAILED_SHOWN)
      lines.push(`- and ${job.failedTests.length - FAILED_SHOWN} more`);
  }
  const measured = tests
    .filter((t) => t.peakRssBytes !== null)
    .sort((a, b) => (b.peakRssBytes ?? 0) - (a.peakRssBytes ?? 0))
    .slice(0, TOP_TESTS);
  if (measured.length > 0) {
    lines.push(
      "",
      "### Tests by peak memory",
      "",
      "| Test | Outcome | Peak | Duration |",
      "|---|---|---|---|",
    );
    for (const t of measured) {
      lines.push(
        `| \`${md(t.name)}\` | ${md(t.outcome)} | ${formatBytes(t.peakRssBytes)} | ${formatDuration(t.durationSeconds)} |`,
      );
    }
  }
  lines.push("", `### Compared with \`${md(baseRef)}\``, "");
  if (comparison === null) {
    lines.push(`No finished \`${md(job.suite)}\` job on \`${md(baseRef)}\` to compare with yet.`);
  } else if (comparison.grown.length === 0) {
    lines.push(
      `No test uses 5% or more memory than in job #${comparison.baseJobId}${commitNote(comparison)}.`,
    );
  } else {
    lines.push(
      `Tests whose peak grew by 5% or more since job #${comparison.baseJobId}${commitNote(comparison)}:`,
      "",
      `| Test | ${md(baseRef)} | this PR | change |`,
      "|---|---|---|---|",
    );
    for (const g of comparison.grown.slice(0, TOP_TESTS * 3)) {
      const change = ((g.prBytes / g.baseBytes - 1) * 100).toFixed(0);
      lines.push(
        `| \`${md(g.test)}\` | ${formatBytes(g.baseBytes)} | ${formatBytes(g.prBytes)} | +${change}% |`,
      );
    }
  }
  // GitHub refuses a summary over 65535 characters.
  return lines.join("\n").slice(0, 65_000);
}

/** The short PR comment: the same verdict in one paragraph, with the link. */
export function reportComment({ job, comparison, baseRef, jobUrl }: JobReportInput): string {
  const parts = [
    `**memfarm / ${md(job.suite)}** on \`${(job.commit ?? "").slice(0, 12) || md(job.ref ?? "")}\`: ${md(outcomeInWords(job))}.`,
    `Peak ${formatBytes(job.peakRssBytes)} of ${formatBytes(job.limitBytes ?? job.memlimitBytes)} in ${formatDuration(job.durationSeconds)}.`,
  ];
  if (job.failedTests.length > 0) {
    const names = job.failedTests.slice(0, 5).map((name) => `\`${md(name)}\``);
    parts.push(`Failed: ${names.join(", ")}${job.failedTests.length > 5 ? ", ..." : ""}.`);
  }
  if (comparison !== null && comparison.grown.length > 0) {
    parts.push(`${comparison.grown.length} test(s) use 5% or more memory than on \`${md(baseRef)}\`.`);
  }
  parts.push(`[Job #${job.id}](${jobUrl})`);
  return parts.join(" ");
}

/**
 * The job fetches `pull/N/head` when it starts, which can be later than the
 * command: say so when the PR was pushed to in between.
 */
function headMoved(job: JobResource): string | null {
  const asked = job.provenance.pullRequest?.headSha;
  if (!asked || !job.commit || job.commit === asked) return null;
  return `**Note:** the pull request was pushed to after the command: it asked for \`${asked.slice(0, 12)}\`, the job ran \`${job.commit.slice(0, 12)}\`.`;
}

function commitNote(comparison: BaseComparison): string {
  return comparison.baseCommit ? ` (\`${comparison.baseCommit.slice(0, 12)}\`)` : "";
}

function formatDuration(seconds: number | null): string {
  if (seconds === null) return "-";
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s} s` : `${s} s`;
}

/** Text from a job (test names, errors) kept from breaking the Markdown table or mentioning people. */
export function md(text: string): string {
  return text.replace(/[|`]/g, "'").replace(/@/g, "@\u200b").replace(/\r?\n/g, " ");
}
