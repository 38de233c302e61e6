import type { TestResource } from "../../protocol/resources.ts";
import type { JobsStore } from "../store/jobs-store.ts";
import type { TestsStore } from "../store/tests-store.ts";

/** A test whose peak grew by this fraction or more counts as using more memory than on the base branch. */
export const GROWTH_THRESHOLD = 0.05;

export interface MemoryGrowth {
  test: string;
  baseBytes: number;
  prBytes: number;
}

export interface BaseComparison {
  baseJobId: number;
  baseCommit: string | null;
  grown: MemoryGrowth[];
}

/**
 * Compares a PR job's per-test peaks with the latest job of the same suite
 * that finished with a verdict (passed or failed) on the base branch of the
 * same repository: the jobs memfarm ran there, by CLI, API or schedule.
 */
export class BaseComparer {
  constructor(
    private readonly jobs: JobsStore,
    private readonly tests: TestsStore,
  ) {}

  compare(job: { id: number; suite: string; repo: string | null }, baseRef: string, prTests: TestResource[]) {
    if (job.repo === null) return null;
    const base = this.jobs.latestVerdictOnRef({
      suite: job.suite,
      repo: job.repo,
      ref: baseRef,
      before: job.id,
    });
    if (!base) return null;
    return {
      baseJobId: base.id,
      baseCommit: base.commit,
      grown: grownTests(this.tests.list(base.id), prTests),
    } satisfies BaseComparison;
  }
}

/** Test files and cases measured in both jobs whose peak grew by GROWTH_THRESHOLD or more, largest growth first. */
export function grownTests(baseTests: TestResource[], prTests: TestResource[]): MemoryGrowth[] {
  const basePeaks = new Map(
    baseTests
      .filter((t) => t.peakRssBytes !== null)
      .map((t) => [`${t.kind}:${t.name}`, t.peakRssBytes as number]),
  );
  const grown: MemoryGrowth[] = [];
  for (const test of prTests) {
    const baseBytes = basePeaks.get(`${test.kind}:${test.name}`);
    if (baseBytes === undefined || baseBytes <= 0 || test.peakRssBytes === null) continue;
    if (test.peakRssBytes >= baseBytes * (1 + GROWTH_THRESHOLD)) {
      grown.push({ test: test.name, baseBytes, prBytes: test.peakRssBytes });
    }
  }
  return grown.sort((a, b) => b.prBytes / b.baseBytes - a.prBytes / a.baseBytes);
}
