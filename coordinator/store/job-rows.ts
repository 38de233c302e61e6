import type { JobStatus, Priority } from "../../protocol/job-status.ts";
import type { AttemptResource, AttemptStatus, JobResource, Provenance } from "../../protocol/resources.ts";

/** A `jobs` row as SQLite returns it. */
export interface JobRow {
  id: number;
  suite: string;
  status: JobStatus;
  priority: Priority;
  memlimit_bytes: number | null;
  reservation_bytes: number;
  python: string | null;
  ref: string | null;
  repo: string | null;
  commit_sha: string | null;
  commit_time: string | null;
  python_version: string | null;
  tests: string;
  labels: string;
  provenance: string;
  args: string;
  timeout_seconds: number;
  agent: string | null;
  attempt_count: number;
  current_attempt: string | null;
  cancel_requested: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  signal: string | null;
  peak_rss_bytes: number | null;
  count_run: number | null;
  count_failed: number | null;
  count_skipped: number | null;
  count_leaks: string | null;
  failed_tests: string;
  held_reason: string | null;
  error: string | null;
  configure_flags: string;
  no_output_timeout_seconds: number;
  limit_bytes: number | null;
  limit_kind: string | null;
  exclusive: number;
  scheduled_bytes: number | null;
}

export interface AttemptRow {
  id: string;
  job_id: number;
  number: number;
  agent: string;
  status: AttemptStatus;
  started_at: string | null;
  finished_at: string | null;
  last_seq: number;
  note: string | null;
  late_result: string | null;
}

export function toAttemptResource(row: AttemptRow): AttemptResource {
  return {
    id: row.id,
    number: row.number,
    agent: row.agent,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    note: row.note,
    lateResult: row.late_result,
  };
}

/** regrtest's worker count in a job's arguments: `-jN` (the coordinator writes it so), else one process. */
function workersInArgs(args: readonly string[]): number {
  for (const arg of args) {
    const match = /^-j(\d+)$/.exec(arg);
    if (match) return Number(match[1]);
  }
  return 1;
}

export function toJobResource(row: JobRow, attempts: AttemptRow[]): JobResource {
  const duration =
    row.started_at && row.finished_at
      ? (Date.parse(row.finished_at) - Date.parse(row.started_at)) / 1000
      : null;
  const args = JSON.parse(row.args) as string[];
  return {
    id: row.id,
    suite: row.suite,
    status: row.status,
    priority: row.priority,
    memlimitBytes: row.memlimit_bytes,
    reservationBytes: row.reservation_bytes,
    python: row.python,
    ref: row.ref,
    repo: row.repo,
    commit: row.commit_sha,
    commitTime: row.commit_time,
    pythonVersion: row.python_version,
    tests: JSON.parse(row.tests) as string[],
    labels: JSON.parse(row.labels) as Record<string, string>,
    provenance: JSON.parse(row.provenance) as Provenance,
    agent: row.agent,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationSeconds: duration,
    exitCode: row.exit_code,
    signal: row.signal,
    peakRssBytes: row.peak_rss_bytes,
    counts:
      row.count_run === null
        ? null
        : {
            run: row.count_run,
            failed: row.count_failed ?? 0,
            skipped: row.count_skipped ?? 0,
            ...(row.count_leaks === null ? {} : { leaks: JSON.parse(row.count_leaks) as string[] }),
          },
    failedTests: JSON.parse(row.failed_tests) as string[],
    heldReason: row.held_reason,
    error: row.error,
    timeoutSeconds: row.timeout_seconds,
    noOutputTimeoutSeconds: row.no_output_timeout_seconds,
    configureFlags: JSON.parse(row.configure_flags) as string[],
    limitBytes: row.limit_bytes,
    limitKind: row.limit_kind,
    exclusive: row.exclusive === 1,
    scheduledBytes: row.scheduled_bytes,
    args,
    workers: workersInArgs(args),
    attempts: attempts.map(toAttemptResource),
  };
}
