import type { Progress } from "../../protocol/messages.ts";
import type { LogLineResource } from "../../protocol/resources.ts";
import type { Db } from "./database.ts";
import type { JobStatesStore } from "./job-states-store.ts";
import type { JobsStore } from "./jobs-store.ts";
import type { LogsStore } from "./logs-store.ts";
import type { SamplesStore } from "./samples-store.ts";
import type { TestsStore } from "./tests-store.ts";

/** What became of one progress message: written, a redelivery, or from an attempt that is not current. */
export type ProgressWrite =
  | { verdict: "applied"; jobId: number; started: boolean; lines: LogLineResource[] }
  | { verdict: "duplicate" | "early"; jobId: number }
  | { verdict: "stale"; jobId: number | null };

/**
 * One progress message of an attempt, written to every table it touches (the attempt's sequence
 * number, the job's state, log, samples, tests, commit) in one transaction, so a crash half-way
 * leaves nothing that a redelivery would then add twice. The job comes from the attempt the
 * message names: the attempt id is the only id on the wire.
 */
export class ProgressStore {
  constructor(
    private readonly db: Db,
    private readonly jobs: JobsStore,
    private readonly jobStates: JobStatesStore,
    private readonly logs: LogsStore,
    private readonly samples: SamplesStore,
    private readonly tests: TestsStore,
  ) {}

  /** `acceptGap`: apply it even if reports before it never arrived (see acceptProgressSeq). */
  record(progress: Progress, acceptGap = false): ProgressWrite {
    return this.db.transaction((): ProgressWrite => {
      const attempt = this.jobs.attempt(progress.attemptId);
      if (!attempt) return { verdict: "stale", jobId: null };
      const jobId = attempt.job_id;
      if (!this.jobs.isCurrentAndActive(jobId, attempt.id)) return { verdict: "stale", jobId };
      const seq = this.jobStates.acceptProgressSeq(attempt.id, progress.seq, acceptGap);
      if (seq !== "next") return { verdict: seq, jobId };
      const started = progress.started && this.jobStates.markRunning(jobId, attempt.id);
      const lines = this.logs.append(jobId, attempt.id, progress.log);
      this.samples.append(jobId, attempt.id, progress.samples);
      this.tests.record(jobId, attempt.id, progress.tests);
      if (progress.commit) this.jobStates.setCommit(jobId, progress.commit, progress.commitTime ?? null);
      if (progress.pythonVersion) this.jobStates.setPythonVersion(jobId, progress.pythonVersion);
      return { verdict: "applied", jobId, started, lines };
    })();
  }
}
