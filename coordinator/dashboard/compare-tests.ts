import type { TestResource } from "../../protocol/resources.ts";

/** Growth at or above this share is highlighted: noise in peak RSS is a few percent. */
export const GROWTH_THRESHOLD = 0.05;

export interface ComparedTest {
  name: string;
  kind: "file" | "case";
  basePeakBytes: number | null;
  headPeakBytes: number | null;
  /** (head - base) / base, or null when either side has no peak. */
  growth: number | null;
  grew: boolean;
}

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
      growth: null,
      grew: false,
    };
    rows.set(key(test), created);
    return created;
  };
  for (const test of base) if (test.outcome !== "skipped") row(test).basePeakBytes = test.peakRssBytes;
  for (const test of head) if (test.outcome !== "skipped") row(test).headPeakBytes = test.peakRssBytes;
  for (const compared of rows.values()) {
    const { basePeakBytes: before, headPeakBytes: after } = compared;
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
