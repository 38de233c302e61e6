import type { Statement } from "better-sqlite3";
import type { Sample } from "../../protocol/messages.ts";
import type { SampleResource } from "../../protocol/resources.ts";
import type { Db } from "./database.ts";

interface SampleRow {
  at: number;
  rss_bytes: number;
  cpu_percent: number;
  processes: number;
}

/** The minutes of one chart bucket, summarised. */
interface BucketRow {
  bucket: number;
  first_at: number;
  last_at: number;
  min_rss_bytes: number;
  min_cpu_percent: number;
  max_cpu_percent: number;
  max_processes: number;
}

/** Where in a bucket its highest memory was sampled. */
interface BucketPeakRow {
  bucket: number;
  max_rss_bytes: number;
  max_rss_at: number;
}

type BucketParams = { jobId: number; first: number; width: number; last: number };

/** One minute's summary, as a job folded by retention keeps it. */
interface MinuteRow {
  max_rss_at: number;
  max_rss_bytes: number;
  max_cpu_percent: number;
  max_processes: number;
}

/** What a job's samples are now: every sample, or (folded by retention) one summary a minute. */
export type SampleResolution = "sample" | "minute";

const MINUTE_MS = 60_000;
/** Up to this many samples a chart reads them all: at ~1 µs a row that stays under ~20 ms. */
export const CHART_RAW_SAMPLES = 20_000;
/**
 * Minutes stand in for samples only when a chart's bucket spans at least this many of them, so
 * that attributing a whole minute to one bucket moves a peak by at most a fraction of a bucket.
 */
const MINUTES_PER_BUCKET = 2;

/** Memory and CPU samples of a job's process tree over time, and their per-minute summary. */
export class SamplesStore {
  private readonly insertSample: Statement;
  private readonly upsertMinute: Statement;
  private readonly readSamples: Statement<[number], SampleRow>;
  private readonly readBuckets: Statement<[BucketParams], BucketRow>;
  private readonly readBucketPeaks: Statement<[BucketParams], BucketPeakRow>;
  private readonly readMinutes: Statement<[number], MinuteRow>;
  private readonly folded: Statement<[number], { job_id: number }>;
  private readonly extent: Statement<
    [number],
    { first: number | null; last: number | null; samples: number | null }
  >;

  constructor(private readonly db: Db) {
    this.insertSample = db.prepare(
      "INSERT INTO samples (job_id, attempt_id, at, rss_bytes, cpu_percent, processes) VALUES (?, ?, ?, ?, ?, ?)",
    );
    // SET expressions see the row's old values, so max_rss_at compares against the old maximum.
    this.upsertMinute = db.prepare(`
      INSERT INTO sample_minutes (job_id, minute, first_at, last_at, min_rss_bytes, max_rss_bytes, max_rss_at,
                                  min_cpu_percent, max_cpu_percent, max_processes, samples)
      VALUES (@jobId, @minute, @at, @at, @rss, @rss, @at, @cpu, @cpu, @processes, 1)
      ON CONFLICT (job_id, minute) DO UPDATE SET
        first_at = MIN(first_at, excluded.first_at), last_at = MAX(last_at, excluded.last_at),
        min_rss_bytes = MIN(min_rss_bytes, excluded.min_rss_bytes),
        max_rss_at = CASE WHEN excluded.max_rss_bytes > max_rss_bytes THEN excluded.max_rss_at ELSE max_rss_at END,
        max_rss_bytes = MAX(max_rss_bytes, excluded.max_rss_bytes),
        min_cpu_percent = MIN(min_cpu_percent, excluded.min_cpu_percent),
        max_cpu_percent = MAX(max_cpu_percent, excluded.max_cpu_percent),
        max_processes = MAX(max_processes, excluded.max_processes), samples = samples + 1`);
    this.readSamples = db.prepare(
      "SELECT at, rss_bytes, cpu_percent, processes FROM samples WHERE job_id = ? ORDER BY at",
    );
    // The chart's own buckets (downsample's: equal slices from the first sample to the last), so
    // that only a minute that straddles a boundary can land in the neighbouring bucket.
    const bucket = "MIN(CAST((first_at - @first) / @width AS INTEGER), @last)";
    this.readBuckets = db.prepare(`
      SELECT ${bucket} AS bucket, MIN(first_at) AS first_at, MAX(last_at) AS last_at,
             MIN(min_rss_bytes) AS min_rss_bytes, MIN(min_cpu_percent) AS min_cpu_percent,
             MAX(max_cpu_percent) AS max_cpu_percent, MAX(max_processes) AS max_processes
      FROM sample_minutes WHERE job_id = @jobId GROUP BY bucket ORDER BY bucket`);
    // A single max() aggregate: SQLite then takes max_rss_at from the row with the maximum.
    this.readBucketPeaks = db.prepare(`
      SELECT ${bucket} AS bucket, MAX(max_rss_bytes) AS max_rss_bytes, max_rss_at
      FROM sample_minutes WHERE job_id = @jobId GROUP BY bucket ORDER BY bucket`);
    this.readMinutes = db.prepare(
      "SELECT max_rss_at, max_rss_bytes, max_cpu_percent, max_processes FROM sample_minutes WHERE job_id = ? ORDER BY minute",
    );
    this.folded = db.prepare("SELECT job_id FROM sample_folds WHERE job_id = ?");
    this.extent = db.prepare(
      "SELECT MIN(first_at) AS first, MAX(last_at) AS last, SUM(samples) AS samples FROM sample_minutes WHERE job_id = ?",
    );
  }

  /** Inserts a batch in one transaction (autocommit per row is 20× slower). */
  append(jobId: number, attemptId: string, samples: Sample[]): void {
    if (samples.length === 0) return;
    this.db.transaction(() => {
      for (const sample of samples) {
        this.insertSample.run(
          jobId,
          attemptId,
          sample.at,
          sample.rssBytes,
          sample.cpuPercent,
          sample.processes,
        );
        this.upsertMinute.run({
          jobId,
          minute: Math.floor(sample.at / MINUTE_MS),
          at: sample.at,
          rss: sample.rssBytes,
          cpu: sample.cpuPercent,
          processes: sample.processes,
        });
      }
    })();
  }

  /** Whether retention folded the job's samples into its minutes (sample_folds). */
  resolution(jobId: number): SampleResolution {
    return this.folded.get(jobId) ? "minute" : "sample";
  }

  /**
   * The samples with times in ms since the epoch, for downsampling; of a job folded by retention,
   * each minute's highest memory where it was sampled (with the minute's highest CPU and processes).
   */
  readRaw(jobId: number): Sample[] {
    if (this.resolution(jobId) === "minute") {
      return this.readMinutes.all(jobId).map((row) => ({
        at: row.max_rss_at,
        rssBytes: row.max_rss_bytes,
        cpuPercent: row.max_cpu_percent,
        processes: row.max_processes,
      }));
    }
    return this.readSamples.all(jobId).map((row) => ({
      at: row.at,
      rssBytes: row.rss_bytes,
      cpuPercent: row.cpu_percent,
      processes: row.processes,
    }));
  }

  /**
   * What a min/max chart of `buckets` slices needs, read in bounded time.
   * A short job: its samples (readRaw). A long one: the per-minute summaries
   * grouped into the chart's buckets, three points per bucket: at its first
   * sample (the lowest values), where its highest memory was sampled (the
   * highest values) and at its last sample (the lowest again). A min/max
   * downsampling of these finds the same minima, maxima, peak and time span
   * as of every sample, up to which bucket a minute on a boundary falls in.
   * These are not samples: use readRaw for the series itself. A job folded by retention has its
   * minutes only, so its chart always comes from them (coarser: no finer than a minute).
   */
  chartPoints(jobId: number, buckets: number): Sample[] {
    const { first, last, samples } = this.extent.get(jobId) ?? { first: null, last: null, samples: null };
    if (first === null || last === null || samples === null) return [];
    const bucketMs = (last - first) / Math.max(1, buckets);
    const fine = samples <= CHART_RAW_SAMPLES || bucketMs < MINUTES_PER_BUCKET * MINUTE_MS;
    if (fine && this.resolution(jobId) === "sample") return this.readRaw(jobId);
    const width = Math.max(1, bucketMs); // a folded job of one sample spans 0 ms
    const params: BucketParams = { jobId, first, width, last: Math.max(1, buckets) - 1 };
    const peaks = new Map(this.readBucketPeaks.all(params).map((row) => [row.bucket, row]));
    const points: Sample[] = [];
    for (const row of this.readBuckets.all(params)) {
      const peak = peaks.get(row.bucket);
      const low = {
        rssBytes: row.min_rss_bytes,
        cpuPercent: row.min_cpu_percent,
        processes: row.max_processes,
      };
      points.push({ at: row.first_at, ...low });
      if (peak) {
        points.push({
          at: peak.max_rss_at,
          rssBytes: peak.max_rss_bytes,
          cpuPercent: row.max_cpu_percent,
          processes: row.max_processes,
        });
      }
      points.push({ at: row.last_at, ...low });
    }
    return points;
  }

  /** For the API: every sample, or of a folded job one a minute (see readRaw and resolution). */
  read(jobId: number): SampleResource[] {
    return this.readRaw(jobId).map((sample) => ({
      at: new Date(sample.at).toISOString(),
      rssBytes: sample.rssBytes,
      cpuPercent: sample.cpuPercent,
      processes: sample.processes,
    }));
  }
}
