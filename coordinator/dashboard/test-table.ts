import type { TestResource } from "../../protocol/resources.ts";

export const TEST_SORT_KEYS = ["peak", "duration", "name", "outcome"] as const;
export type TestSortKey = (typeof TEST_SORT_KEYS)[number];
export type SortDirection = "asc" | "desc";

export interface TestSort {
  key: TestSortKey;
  direction: SortDirection;
}

/** The default a core developer wants: the hungriest tests first. */
export const DEFAULT_TEST_SORT: TestSort = { key: "peak", direction: "desc" };

/** Reads `?sort=peak` / `?sort=-peak` (descending); anything else is the default. */
export function readTestSort(value: unknown): TestSort {
  if (typeof value !== "string") return DEFAULT_TEST_SORT;
  const direction: SortDirection = value.startsWith("-") ? "desc" : "asc";
  const key = value.replace(/^-/, "");
  return (TEST_SORT_KEYS as readonly string[]).includes(key)
    ? { key: key as TestSortKey, direction }
    : DEFAULT_TEST_SORT;
}

/** The `?sort=` value for a header link: the same key flips the direction; a new key starts descending. */
export function sortLink(current: TestSort, key: TestSortKey): string {
  const direction = current.key === key && current.direction === "desc" ? "asc" : "desc";
  return direction === "desc" ? `-${key}` : key;
}

/** Tests with no value for the key (not measured) always sort last. */
export function sortTests(tests: readonly TestResource[], sort: TestSort): TestResource[] {
  const value = (test: TestResource): number | string | null => {
    switch (sort.key) {
      case "peak":
        return test.peakRssBytes;
      case "duration":
        return test.durationSeconds;
      case "name":
        return test.name;
      case "outcome":
        return test.outcome;
    }
  };
  const sign = sort.direction === "asc" ? 1 : -1;
  return [...tests].sort((a, b) => {
    const left = value(a);
    const right = value(b);
    if (left === null || right === null) return left === right ? 0 : left === null ? 1 : -1;
    const order = typeof left === "number" ? left - (right as number) : left.localeCompare(right as string);
    return sign * order || a.name.localeCompare(b.name);
  });
}
