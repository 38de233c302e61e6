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

/** Memory and CPU samples of a job's process tree over time. */
export class SamplesStore {
  private readonly insertSample: Statement;
  private readonly readSamples: Statement<[number], SampleRow>;

  constructor(private readonly db: Db) {
    this.insertSample = db.prepare(
      "INSERT INTO samples (job_id, attempt_id, at, rss_bytes, cpu_percent, processes) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.readSamples = db.prepare(
      "SELECT at, rss_bytes, cpu_percent, processes FROM samples WHERE job_id = ? ORDER BY at",
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
      }
    })();
  }

  /** The samples with times in ms since the epoch, for downsampling. */
  readRaw(jobId: number): Sample[] {
    return this.readSamples.all(jobId).map((row) => ({
      at: row.at,
      rssBytes: row.rss_bytes,
      cpuPercent: row.cpu_percent,
      processes: row.processes,
    }));
  }

  read(jobId: number): SampleResource[] {
    return this.readSamples.all(jobId).map((row) => ({
      at: new Date(row.at).toISOString(),
      rssBytes: row.rss_bytes,
      cpuPercent: row.cpu_percent,
      processes: row.processes,
    }));
  }
}
