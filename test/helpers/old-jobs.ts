import type { Store } from "../../coordinator/store/store.ts";
import type { LogLine, Sample, TestRecord } from "../../protocol/messages.ts";
import { newJobRow } from "./new-job.ts";

export const DAY_MS = 86_400_000;

export interface OldJobPlan {
  suite?: string;
  /** When it ended, this many days before `now`; null: it is still running. */
  endedDaysAgo: number | null;
  /** How long it ran. */
  runMs: number;
  sampleEveryMs?: number;
  logLines?: number;
  /** Per-test records: this many test files, one after the other. */
  testFiles?: number;
  now?: number;
}

export interface OldJob {
  jobId: number;
  attemptId: string;
  peakRssBytes: number;
  samples: number;
}

/**
 * A job as the farm records one, written through the store's own API (submit, assign, progress
 * reports, result) with timestamps in the past: samples at a steady rate with a sawtooth and one
 * short spike, log lines, per-test records with their own peaks.
 */
export function recordOldJob(store: Store, plan: OldJobPlan): OldJob {
  const now = plan.now ?? Date.now();
  const endMs = now - (plan.endedDaysAgo ?? 0) * DAY_MS;
  const startMs = endMs - plan.runMs;
  const every = plan.sampleEveryMs ?? 1000;
  const { id: jobId } = store.jobs.insert(
    newJobRow({ suite: plan.suite ?? "bigmem" }),
    new Date(startMs - 5000),
  );
  const attemptId = store.jobStates.assign(jobId, "arm-01", new Date(startMs - 1000));
  if (!attemptId) throw new Error(`job ${jobId} could not be assigned`);
  const count = Math.floor(plan.runMs / every);
  const spikeAt = Math.floor(count * 0.37);
  let peak = 0;
  const samples: Sample[] = [];
  for (let index = 0; index < count; index += 1) {
    const rssBytes = 100_000_000 + (index % 600) * 1_000_000 + (index === spikeAt ? 7_000_000_000 : 0);
    peak = Math.max(peak, rssBytes);
    samples.push({
      at: startMs + index * every,
      rssBytes,
      cpuPercent: (index * 7) % 400,
      processes: 1 + (index % 5),
    });
  }
  const lines: LogLine[] = Array.from({ length: plan.logLines ?? 0 }, (_, index) => ({
    stream: index % 10 === 9 ? "stderr" : "stdout",
    text: `0:${String(index).padStart(5, "0")} [${index}/9999] test_bigmem.StrTest.test_case_${index} ... ok`,
  }));
  const files = plan.testFiles ?? 0;
  const tests: TestRecord[] = Array.from({ length: files }, (_, index) => ({
    name: `test_file_${index}`,
    kind: "file",
    outcome: index % 7 === 3 ? "failed" : "passed",
    startedAt: startMs + Math.floor((index * plan.runMs) / files),
    durationSeconds: plan.runMs / files / 1000,
    peakRssBytes: 50_000_000 + index * 1_000_000,
    detail: index % 7 === 3 ? `Traceback in test_file_${index}` : null,
  }));
  // Reports as the agent sends them: a batch of samples and lines every few seconds.
  const reports = Math.max(1, Math.ceil(count / 50), Math.ceil(lines.length / 50), files);
  for (let seq = 1; seq <= reports; seq += 1) {
    const share = <T>(list: T[]) =>
      list.slice(Math.floor(((seq - 1) * list.length) / reports), Math.floor((seq * list.length) / reports));
    store.progress.record({
      attemptId,
      seq,
      started: seq === 1,
      log: share(lines),
      samples: share(samples),
      tests: share(tests),
    });
  }
  if (plan.endedDaysAgo !== null) {
    store.jobStates.finish({
      attemptId,
      status: "passed",
      exitCode: 0,
      signal: null,
      startedAt: new Date(startMs).toISOString(),
      finishedAt: new Date(endMs).toISOString(),
      peakRssBytes: peak + 12_345, // the kernel's, above every sample
      counts: { run: files, failed: 0, skipped: 0 },
      failedTests: [],
      error: null,
      limitBytes: null,
      limitKind: null,
      lastSeq: reports,
    });
  }
  return { jobId, attemptId, peakRssBytes: peak + 12_345, samples: count };
}
