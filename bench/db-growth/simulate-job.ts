import type { Store } from "../../coordinator/store/store.ts";
import type { LogLine, Sample, TestRecord } from "../../protocol/messages.ts";
import { logText } from "./log-text.ts";
import type { SuiteProfile } from "./suite-profiles.ts";

/** Seconds of a job's output per progress report here (the agent sends one every 250 ms: same rows, more transactions). */
const REPORT_SECONDS = 10;

/**
 * Writes one job of `profile` through the store's own API, as the coordinator does from an agent's
 * reports: submit, assign, progress (log lines, 1 Hz samples, test records), result. It ended
 * `endedMsAgo` before `nowMs`. Returns the job's id.
 */
export function simulateJob(store: Store, profile: SuiteProfile, nowMs: number, endedMsAgo: number): number {
  const endMs = nowMs - endedMsAgo;
  const startMs = endMs - profile.runSeconds * 1000;
  const { id: jobId } = store.jobs.insert(
    {
      suite: profile.suite,
      priority: "normal",
      memlimitBytes: 60 * 1024 ** 3,
      reservationBytes: 244 * 1024 ** 3,
      python: profile.buildLines === 0 ? "/usr/bin/python3" : null,
      ref: profile.buildLines === 0 ? null : "main",
      repo: profile.buildLines === 0 ? null : "https://github.com/python/cpython",
      configureFlags: ["--with-pydebug"],
      noOutputTimeoutSeconds: 7200,
      exclusive: false,
      scheduledBytes: null,
      tests: [],
      labels: {},
      provenance: { source: "api", requester: "admin" },
      args: ["-m", "test", "-uall", "-j4"],
      timeoutSeconds: 43_200,
    },
    new Date(startMs - 600_000),
  );
  const attemptId = store.jobStates.assign(jobId, "arm-01", new Date(startMs - 300_000));
  if (!attemptId) throw new Error(`job ${jobId} was not assigned`);
  const text = logText(jobId);
  const testLine = (index: number) =>
    profile.testCases > 0 && profile.buildLines === 0
      ? text.testCase()
      : text.progress(index, profile.testFiles);
  const logLines: LogLine[] = [
    ...Array.from({ length: profile.buildLines }, () => ({
      stream: "stdout" as const,
      text: text.build(),
    })),
    ...Array.from({ length: profile.testLines }, (_, index) => ({
      stream: index % 20 === 19 ? ("stderr" as const) : ("stdout" as const),
      text: testLine(index),
    })),
  ];
  const records: TestRecord[] = [
    ...Array.from({ length: profile.testFiles }, (_, index) => ({
      name: `test_module_${index}`,
      kind: "file" as const,
      outcome: "passed" as const,
      startedAt: startMs + Math.floor((index * profile.runSeconds * 1000) / Math.max(1, profile.testFiles)),
      durationSeconds: profile.runSeconds / Math.max(1, profile.testFiles),
      peakRssBytes: 200_000_000 + index * 10_000_000,
      detail: null,
    })),
    ...Array.from({ length: profile.testCases }, (_, index) => ({
      name: `test.test_module_${index % 464}.SomeTestCase.test_case_number_${index}`,
      kind: "case" as const,
      outcome: index % 50 === 0 ? ("skipped" as const) : ("passed" as const),
      startedAt: null,
      durationSeconds: 0.01,
      peakRssBytes: null,
      detail: index % 50 === 0 ? "requires the extralargefile resource" : null,
    })),
  ];
  const reports = Math.max(1, Math.ceil(profile.runSeconds / REPORT_SECONDS));
  const share = <T>(list: T[], seq: number) =>
    list.slice(Math.floor(((seq - 1) * list.length) / reports), Math.floor((seq * list.length) / reports));
  let peak = 0;
  for (let seq = 1; seq <= reports; seq += 1) {
    const samples: Sample[] = [];
    const from = Math.floor(((seq - 1) * profile.runSeconds) / reports);
    const to = Math.floor((seq * profile.runSeconds) / reports);
    for (let second = from; second < to; second += 1) {
      // A memory curve that moves every second, as a bigmem run's does (no run-length luck for SQLite).
      const rssBytes = 500_000_000 + ((second * 7_919) % 60_000) * 1_000_000 + (second % 13) * 4096;
      peak = Math.max(peak, rssBytes);
      samples.push({
        at: startMs + second * 1000,
        rssBytes,
        cpuPercent: ((second * 37) % 4000) / 10,
        processes: 1 + (second % 9),
      });
    }
    store.progress.record({
      attemptId,
      seq,
      started: seq === 1,
      log: share(logLines, seq),
      samples,
      tests: share(records, seq),
    });
  }
  store.jobStates.finish({
    attemptId,
    status: "passed",
    exitCode: 0,
    signal: null,
    startedAt: new Date(startMs).toISOString(),
    finishedAt: new Date(endMs).toISOString(),
    peakRssBytes: peak,
    counts: { run: profile.testCases || profile.testFiles, failed: 0, skipped: 0 },
    failedTests: [],
    error: null,
    limitBytes: null,
    limitKind: null,
    lastSeq: reports,
  });
  return jobId;
}
