import type { JobResource, TestResource } from "../../protocol/resources.ts";
import { formatBytes } from "../../protocol/sizes.ts";
import { formatDuration } from "./format-duration.ts";

/**
 * An OOM or a timeout in words a core developer can act on: which limit was
 * hit, by how much, what ran last, and what to change. Null for outcomes the
 * status already explains (passed, failed with its failing tests).
 */
export function explainOutcome(job: JobResource, tests: readonly TestResource[]): string | null {
  const lastFile = lastTestFile(tests);
  const running = lastFile ? ` The last test file to start was ${lastFile}.` : "";
  if (job.status === "oom") {
    const limit = job.limitBytes ?? job.reservationBytes;
    const how =
      job.limitKind === "watchdog"
        ? "the agent's memory watchdog stopped the process tree"
        : "the kernel's OOM killer stopped the process tree inside the job's cgroup";
    const peak = job.peakRssBytes === null ? "" : ` Its peak was ${formatBytes(job.peakRssBytes)}.`;
    const memlimit =
      job.memlimitBytes === null
        ? ""
        : ` regrtest's -M ${formatBytes(job.memlimitBytes)} lets each bigmem test use up to that much, and with several workers that many tests can run at once.`;
    return (
      `Out of memory: the tests needed more than the job's limit of ${formatBytes(limit)}, so ${how}; the host and the agent kept running.` +
      `${peak}${running}${memlimit} Run it again with a smaller --memlimit, fewer tests, or on a host with more memory.`
    );
  }
  if (job.status === "timed_out") {
    const reason = job.error ? ` (${job.error})` : "";
    const limits = [`a wall-clock limit of ${formatDuration(job.timeoutSeconds)}`];
    if (job.noOutputTimeoutSeconds > 0)
      limits.push(`at most ${formatDuration(job.noOutputTimeoutSeconds)} without output`);
    return (
      `Timed out${reason}: the job had ${limits.join(" and ")}.${running} ` +
      "A test that hangs stops printing; a test that is merely slow needs a larger timeout in its suite."
    );
  }
  return null;
}

/** The test file that started last: where the job was when it was stopped. */
function lastTestFile(tests: readonly TestResource[]): string | null {
  let last: TestResource | null = null;
  for (const test of tests) {
    if (test.kind !== "file" || test.startedAt === null) continue;
    if (!last || (last.startedAt as string) < test.startedAt) last = test;
  }
  return last?.name ?? null;
}
