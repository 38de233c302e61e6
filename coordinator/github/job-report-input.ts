import type { JobResource } from "../../protocol/resources.ts";
import type { TestsStore } from "../store/tests-store.ts";
import type { BaseComparer } from "./base-comparison.ts";
import type { JobReportInput } from "./job-report.ts";

/**
 * What a job's report is made of: its tests and the comparison with the latest run on the PR's
 * base branch (main for a job that is not a PR's). The PR comment and the job page's "Copy as
 * Markdown" are both made from this, so they say the same.
 */
export function jobReportInput(
  tests: TestsStore,
  comparer: BaseComparer,
  job: JobResource,
  jobUrl: string,
): JobReportInput {
  const jobTests = tests.list(job.id);
  const baseRef = job.provenance.pullRequest?.baseRef ?? "main";
  return {
    job,
    tests: jobTests,
    comparison: comparer.compare(job, baseRef, jobTests),
    baseRef,
    jobUrl,
  };
}
