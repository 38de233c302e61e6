import type {
  ComparedJob,
  ComparedTest,
  JobComparison,
  JobResource,
  TestResource,
} from "../../protocol/resources.ts";

/** Growth at or above this share is highlighted: noise in peak RSS is a few percent. */
export const GROWTH_THRESHOLD = 0.05;

/**
 * Peak memory per test of two jobs (a pull request against main), side by
 * side. Tests in only one job appear with an empty side. Largest growth first,
 * then the rest by name.
 */
export function compareTests(base: readonly TestResource[], head: readonly TestResource[]): ComparedTest[] {
  const key = (test: TestResource) => `${test.kind} ${test.name}`;
  const rows = new Map<string, ComparedTest>();
  const row = (test: TestResource): ComparedTest => {
    const existing = rows.get(key(test));
    if (existing) return existing;
    const created: ComparedTest = {
      name: test.name,
      kind: test.kind,
      basePeakBytes: null,
      headPeakBytes: null,
      deltaBytes: null,
      growth: null,
      grew: false,
      baseOutcome: null,
      headOutcome: null,
    };
    rows.set(key(test), created);
    return created;
  };
  for (const test of base) {
    if (test.outcome === "skipped") continue;
    Object.assign(row(test), { basePeakBytes: test.peakRssBytes, baseOutcome: test.outcome });
  }
  for (const test of head) {
    if (test.outcome === "skipped") continue;
    Object.assign(row(test), { headPeakBytes: test.peakRssBytes, headOutcome: test.outcome });
  }
  for (const compared of rows.values()) {
    const { basePeakBytes: before, headPeakBytes: after } = compared;
    if (before !== null && after !== null) compared.deltaBytes = after - before;
    if (before !== null && after !== null && before > 0) {
      compared.growth = (after - before) / before;
      compared.grew = compared.growth >= GROWTH_THRESHOLD - 1e-12;
    }
  }
  return [...rows.values()].sort(
    (a, b) =>
      (b.growth ?? Number.NEGATIVE_INFINITY) - (a.growth ?? Number.NEGATIVE_INFINITY) ||
      a.name.localeCompare(b.name),
  );
}

/**
 * The same rows ordered by change: the largest absolute peak delta first (a test that shrank by
 * 1 GiB matters more than one that grew by 1 MiB), rows with a side missing last, then by name.
 */
export function byLargestChange(rows: readonly ComparedTest[]): ComparedTest[] {
  const size = (row: ComparedTest) => (row.deltaBytes === null ? -1 : Math.abs(row.deltaBytes));
  return [...rows].sort((a, b) => size(b) - size(a) || a.name.localeCompare(b.name));
}

export function compareJobs(
  base: JobResource,
  baseTests: readonly TestResource[],
  head: JobResource,
  headTests: readonly TestResource[],
): JobComparison {
  return {
    base: comparedJob(base),
    head: comparedJob(head),
    tests: byLargestChange(compareTests(baseTests, headTests)),
  };
}

function comparedJob(job: JobResource): ComparedJob {
  return {
    id: job.id,
    suite: job.suite,
    status: job.status,
    ref: job.ref,
    repo: job.repo,
    commit: job.commit,
    python: job.python,
    pythonVersion: job.pythonVersion,
    agent: job.agent,
    peakRssBytes: job.peakRssBytes,
    durationSeconds: job.durationSeconds,
  };
}
