import { isFinalStatus } from "../../protocol/job-status.ts";
import type { JobResource, TestResource } from "../../protocol/resources.ts";
import type { ProcessFarm } from "../../test/helpers/process-farm.ts";

/** What the soak found wrong with one job once the run is over (empty: nothing). */
export interface JobAudit {
  job: JobResource;
  /** Never reached a terminal state by the deadline. */
  lost: boolean;
  /** Why it counts as duplicated (an attempt, a log line or a test counted twice), or null. */
  duplicated: string | null;
  /** A passed job whose final attempt's log misses some of its nap lines, or null. */
  incomplete: string | null;
}

/** Attempts that ended without a result the farm counts: they may come and go freely. */
const UNCOUNTED = new Set(["lost", "rejected", "handed_back"]);

/**
 * Checks one job the way the chaos tests do, but reports instead of asserting, so a soak run shows
 * every problem at once: more than one attempt that counts, a log line of the final attempt
 * applied twice or out of order, a test recorded twice.
 */
export async function auditJob(farm: ProcessFarm, job: JobResource): Promise<JobAudit> {
  if (!isFinalStatus(job.status)) return { job, lost: true, duplicated: null, incomplete: null };
  const counted = job.attempts.filter((attempt) => !UNCOUNTED.has(attempt.status));
  if (counted.length > 1) {
    return { job, lost: false, incomplete: null, duplicated: `${counted.length} attempts counted` };
  }
  if (job.status !== "passed") return { job, lost: false, duplicated: null, incomplete: null };
  if ((job.counts?.run ?? 0) > 1)
    return { job, lost: false, incomplete: null, duplicated: `counts.run=${job.counts?.run}` };

  const log = (await farm.api(`/jobs/${job.id}/log`)).body as {
    lines: { lineNo: number; attemptId: string; text: string }[];
  };
  const numbers = log.lines.map((line) => line.lineNo);
  if (new Set(numbers).size !== numbers.length)
    return { job, lost: false, incomplete: null, duplicated: "a log line number twice" };
  const final = counted[0]?.id;
  const naps = log.lines
    .filter((line) => line.attemptId === final)
    .flatMap((line) => /(napping \d+)$/.exec(line.text)?.[1] ?? []);
  if (new Set(naps).size !== naps.length)
    return { job, lost: false, incomplete: null, duplicated: "a log line applied twice" };

  const tests = (await farm.api(`/jobs/${job.id}/tests`)).body as { tests: TestResource[] };
  const names = tests.tests
    .filter((test) => test.attemptId === final)
    .map((test) => `${test.kind}:${test.name}`);
  if (new Set(names).size !== names.length)
    return { job, lost: false, incomplete: null, duplicated: "a test recorded twice" };
  const incomplete =
    naps.length === farm.napSeconds ? null : `${farm.napSeconds - naps.length} nap lines missing`;
  return { job, lost: false, duplicated: null, incomplete };
}
