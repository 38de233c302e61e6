import { isFinalStatus } from "../../protocol/job-status.ts";
import type { JobResource } from "../../protocol/resources.ts";

/**
 * What the chart's place says when a job has no memory samples. "No samples yet" promises that
 * some will come, which is only true of a job that has not ended.
 */
export function noSamplesText(job: JobResource): string {
  if (!isFinalStatus(job.status)) {
    return job.status === "running"
      ? "No samples yet: the first arrives a few seconds after the tests start."
      : "No samples yet: they start when the tests start.";
  }
  if (job.status === "error") return "No memory was sampled: the farm could not run the tests.";
  if (job.status === "canceled") return "No memory was sampled: the job was canceled before its tests ran.";
  return "No memory samples were recorded for this job.";
}
