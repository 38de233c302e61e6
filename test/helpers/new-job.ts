import type { NewJob } from "../../coordinator/store/jobs-store.ts";

/** A job as the store takes it, for store tests that need a row and not the job service's checks. */
export function newJobRow(overrides: Partial<NewJob> = {}): NewJob {
  return {
    suite: "bigmem-smoke",
    priority: "normal",
    memlimitBytes: 2 * 1024 ** 3,
    reservationBytes: 3 * 1024 ** 3,
    python: "/usr/bin/python3",
    ref: null,
    repo: null,
    configureFlags: [],
    noOutputTimeoutSeconds: 0,
    exclusive: false,
    scheduledBytes: null,
    tests: [],
    labels: {},
    provenance: { source: "api", requester: "admin" },
    args: ["-m", "test"],
    timeoutSeconds: 60,
    ...overrides,
  };
}
