import type { NewWatch } from "../../coordinator/store/watches-store.ts";

/** A watch of CPython's main branch as the store takes it, for store tests and benchmarks. */
export function newWatchRow(overrides: Partial<NewWatch> = {}): NewWatch {
  return {
    name: "main-bigmem",
    repo: "https://github.com/python/cpython",
    branch: "main",
    suite: "bigmem",
    memlimitBytes: null,
    tests: [],
    labels: {},
    everySeconds: 900,
    commentOnCulprit: false,
    requester: "admin",
    ...overrides,
  };
}
