import { durationText } from "../../protocol/durations.ts";
import type { Logger } from "../../protocol/logger.ts";
import { compressLog } from "../store/log-archive.ts";
import type { RetentionCandidate } from "../store/retention-store.ts";
import type { Store } from "../store/store.ts";

export type OldLogs = "compress" | "drop";

export interface RetentionConfig {
  /** Raw samples of jobs that ended longer ago than this fold into per-minute summaries; null: never. */
  keepSamplesMs: number | null;
  /** Logs of jobs that ended longer ago than this are compressed or dropped; null: never. */
  keepLogsMs: number | null;
  oldLogs: OldLogs;
}

/** What one pass did. */
export interface RetentionPass {
  /** Jobs whose samples were folded (marked) in this pass, and the raw rows deleted. */
  samplesFolded: number;
  sampleRowsDeleted: number;
  logsCompressed: number;
  logsDropped: number;
  logLinesDeleted: number;
  /** Log text before and after compression, of the logs compressed in this pass. */
  logBytesBefore: number;
  logBytesAfter: number;
}

export interface RetentionDeps {
  store: Store;
  config: RetentionConfig;
  log: Logger;
  /** The clock; a test gives one months ahead instead of waiting for them. */
  now?: () => Date;
  /** Between passes. */
  intervalMs?: number;
  /** Rows deleted per transaction: a few milliseconds of holding the database each. */
  batchRows?: number;
  /** The pause after each batch, in which the coordinator answers requests and applies reports. */
  pauseMs?: number;
  /** Told after every pass (the metrics count them). */
  onPass?: (pass: RetentionPass) => void;
}

/** Ten minutes: a new farm's first old jobs wait no longer than that, and an idle pass costs ~nothing. */
const DEFAULT_INTERVAL_MS = 10 * 60_000;
/** ~5 ms of deleting per transaction on this machine (bench/db-growth.ts). */
const DEFAULT_BATCH_ROWS = 2_000;
const DEFAULT_PAUSE_MS = 20;
/** Compressed logs dropped per transaction (each a blob of up to a few MB). */
const DROPS_PER_BATCH = 50;
/** Jobs looked at and skipped (too recent, still running) between two yields to the event loop. */
const SKIPS_PER_YIELD = 200;

const emptyPass = (): RetentionPass => ({
  samplesFolded: 0,
  sampleRowsDeleted: 0,
  logsCompressed: 0,
  logsDropped: 0,
  logLinesDeleted: 0,
  logBytesBefore: 0,
  logBytesAfter: 0,
});

/**
 * Keeps the database's growth bounded: every `intervalMs` a pass folds the raw samples of jobs
 * that ended more than --keep-samples ago into the per-minute summaries their charts read (the
 * job's peak, its per-test figures and its chart stay), and compresses or drops the logs of jobs
 * that ended more than --keep-logs ago. A job that has not ended is never touched. The work goes
 * in small transactions with pauses between them, so the coordinator never waits on it for long;
 * a pass stopped half-way (stop(), a crash) leaves a consistent store that the next pass finishes.
 *
 * Lifecycle: start() → (passes) → stop(), which waits for the batch in flight and ends the pass.
 */
export class Retention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionPass> | null = null;
  private stopping = false;
  private readonly now: () => Date;

  constructor(private readonly deps: RetentionDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Whether there is anything to do at all: both kinds of retention can be off. */
  get enabled(): boolean {
    return this.deps.config.keepSamplesMs !== null || this.deps.config.keepLogsMs !== null;
  }

  start(): void {
    if (!this.enabled) return;
    this.stopping = false;
    this.schedule(Math.min(60_000, this.deps.intervalMs ?? DEFAULT_INTERVAL_MS));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One whole pass now (or the one in flight); what it did. */
  runOnce(): Promise<RetentionPass> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runOnce()
        .catch((thrown: unknown) =>
          // A full disk or a locked database: the next pass tries again; the farm goes on.
          this.deps.log.error("retention pass failed; the next one tries again", { error: String(thrown) }),
        )
        .finally(() => {
          if (!this.stopping) this.schedule(this.deps.intervalMs ?? DEFAULT_INTERVAL_MS);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async pass(): Promise<RetentionPass> {
    const pass = emptyPass();
    const { keepSamplesMs, keepLogsMs } = this.deps.config;
    if (keepSamplesMs !== null) await this.foldSamples(this.now().getTime() - keepSamplesMs, pass);
    if (keepLogsMs !== null) await this.archiveLogs(this.now().getTime() - keepLogsMs, pass);
    const { log } = this.deps;
    if (pass.sampleRowsDeleted > 0 || pass.logLinesDeleted > 0 || pass.logsDropped > 0) {
      log.info("retention pass", {
        ...pass,
        keepSamples: keepSamplesMs === null ? "forever" : durationText(keepSamplesMs),
        keepLogs: keepLogsMs === null ? "forever" : durationText(keepLogsMs),
      });
    }
    this.deps.onPass?.(pass);
    return pass;
  }

  private async foldSamples(cutoffMs: number, pass: RetentionPass): Promise<void> {
    const { retention } = this.deps.store;
    const batch = this.deps.batchRows ?? DEFAULT_BATCH_ROWS;
    await this.eachOldJob(
      cutoffMs,
      (after) => retention.nextJobWithSamples(after),
      async (job) => {
        if (!job.done) pass.samplesFolded += 1;
        const deleted = retention.foldSamples(job.jobId, batch, this.now());
        pass.sampleRowsDeleted += deleted;
        return deleted < batch; // else the job has rows left: the next batch takes them
      },
    );
  }

  private async archiveLogs(cutoffMs: number, pass: RetentionPass): Promise<void> {
    const { store, config } = this.deps;
    const batch = this.deps.batchRows ?? DEFAULT_BATCH_ROWS;
    // Told to drop, it drops what an earlier `compress` kept too: a log is a blob, a few at a time.
    while (config.oldLogs === "drop" && !this.stopping) {
      const dropped = store.retention.dropCompressedLogs(new Date(cutoffMs), DROPS_PER_BATCH);
      pass.logsDropped += dropped;
      if (dropped < DROPS_PER_BATCH) break;
      await this.pause(this.deps.pauseMs ?? DEFAULT_PAUSE_MS);
    }
    await this.eachOldJob(
      cutoffMs,
      (after) => store.retention.nextJobWithLogs(after),
      async (job) => {
        const archive = store.logs.archive(job.jobId);
        if (archive) {
          const deleted = store.retention.deleteArchivedLines(job.jobId, archive.lines, batch);
          pass.logLinesDeleted += deleted;
          return deleted < batch;
        }
        const { lines, textBytes } = store.retention.logOf(job.jobId);
        const gzip = config.oldLogs === "compress" ? await compressLog(lines) : null;
        const action = gzip ? "compressed" : "dropped";
        const last = lines.at(-1)?.lineNo ?? 0;
        // False if lines came in meanwhile: the job is left for the next pass.
        if (!store.retention.archiveLog(job.jobId, { action, lines: last, textBytes, gzip }, this.now()))
          return true;
        if (gzip) {
          pass.logsCompressed += 1;
          pass.logBytesBefore += textBytes;
          pass.logBytesAfter += gzip.length;
        } else pass.logsDropped += 1;
        return false; // its rows go in the next batches
      },
    );
  }

  /**
   * Walks the jobs that still have rows, by id, and hands each that ended before `cutoffMs` (or is
   * half-done from an earlier pass) to `work`, which says whether it is finished with it. Once
   * retention has caught up, only the jobs of the kept window have rows, so a pass looks at those
   * alone (a few thousand index seeks) and not at the whole history.
   */
  private async eachOldJob(
    cutoffMs: number,
    next: (afterJobId: number) => RetentionCandidate | null,
    work: (job: RetentionCandidate) => Promise<boolean>,
  ): Promise<void> {
    let after = 0;
    let skipped = 0;
    while (!this.stopping) {
      const job = next(after);
      if (!job) return;
      const old = job.finishedAt !== null && Date.parse(job.finishedAt) < cutoffMs;
      if (!job.done && !old) {
        after = job.jobId;
        skipped += 1;
        if (skipped % SKIPS_PER_YIELD === 0) await this.pause(0);
        continue;
      }
      if (await work(job)) after = job.jobId;
      await this.pause(this.deps.pauseMs ?? DEFAULT_PAUSE_MS);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}
