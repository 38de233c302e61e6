import assert from "node:assert/strict";
import type { JobResource } from "../../protocol/resources.ts";
import type { ProcessFarm } from "../helpers/process-farm.ts";

/**
 * What every chaos test asserts of a job once the dust settles: it reached exactly one terminal
 * state, passed, through exactly one attempt that counts (the others are lost, never two results),
 * and nothing of the counting attempt was lost or applied twice: each of its log lines once, in order.
 */
export async function assertPassedExactlyOnce(farm: ProcessFarm, job: JobResource): Promise<void> {
  assert.equal(job.status, "passed", `job ${job.id}: ${job.error ?? ""}`);
  const counted = job.attempts.filter(
    (attempt) => attempt.status !== "lost" && attempt.status !== "rejected",
  );
  assert.equal(counted.length, 1, `attempts: ${JSON.stringify(job.attempts)}`);
  const final = counted[0];
  assert.equal(final?.status, "passed");
  assert.equal(job.counts?.run, 1, JSON.stringify(job.counts));

  const log = (await farm.api(`/jobs/${job.id}/log`)).body as {
    lines: { lineNo: number; attemptId: string; text: string }[];
  };
  const numbers = log.lines.map((line) => line.lineNo);
  assert.deepEqual(
    numbers,
    [...new Set(numbers)].sort((a, b) => a - b),
    "log line numbers are unique and ordered",
  );
  const ofFinal = log.lines.filter((line) => line.attemptId === final?.id);
  // The first one shares its line with regrtest's "test_nap (...) ... ".
  const naps = ofFinal.flatMap((line) => /(napping \d+)$/.exec(line.text)?.[1] ?? []);
  const expected = Array.from({ length: farm.napSeconds }, (_, second) => `napping ${second}`);
  assert.deepEqual(naps, expected, "each line of the final attempt arrived once, none lost");
}
