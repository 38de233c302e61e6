import type { JobResource } from "../../protocol/resources.ts";

export interface TimelineEntry {
  at: string;
  state: string;
  text: string;
}

/**
 * A job's states over time, from what the job and its attempts record:
 * submitted, each attempt handed to an agent and how it ended (lost, handed
 * back, refused, a late result), then the job's own ending.
 */
export function jobTimeline(job: JobResource): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    {
      at: job.createdAt,
      state: "queued",
      text: `submitted by ${job.provenance.requester} (${job.provenance.source})`,
    },
  ];
  for (const attempt of job.attempts) {
    if (attempt.startedAt)
      entries.push({
        at: attempt.startedAt,
        state: "assigned",
        text: `attempt ${attempt.number} assigned to ${attempt.agent}`,
      });
    const isCurrent = attempt === job.attempts.at(-1);
    if (isCurrent && job.startedAt && job.startedAt >= (attempt.startedAt ?? ""))
      entries.push({ at: job.startedAt, state: "running", text: startedText(job, attempt.agent) });
    if (attempt.finishedAt) {
      const note = attempt.note ? `: ${attempt.note}` : "";
      const late = attempt.lateResult
        ? ` (a late result, ${attempt.lateResult}, was recorded and not applied)`
        : "";
      entries.push({
        at: attempt.finishedAt,
        state: attempt.status,
        text: `attempt ${attempt.number} ended ${attempt.status}${note}${late}`,
      });
    }
  }
  const lastAttempt = job.attempts.at(-1);
  if (
    job.finishedAt &&
    (!lastAttempt || lastAttempt.finishedAt !== job.finishedAt || lastAttempt.status !== job.status)
  ) {
    entries.push({
      at: job.finishedAt,
      state: job.status,
      text: `job ended ${job.status}${job.error ? `: ${job.error}` : ""}`,
    });
  }
  return entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

/**
 * An `error` job's start time is when its attempt began (the farm could not run the tests: a
 * build or fetch that failed, an interpreter that would not start), so it does not claim that
 * tests started unless some test reported a count.
 */
function startedText(job: JobResource, agent: string): string {
  if (job.status === "error" && !job.counts?.run) return `the attempt started on ${agent}; no test ran`;
  return `tests started on ${agent}`;
}
