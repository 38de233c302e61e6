import { setTimeout as sleep } from "node:timers/promises";
import { isFinalStatus } from "../protocol/job-status.ts";
import type { JobResource, LogLineResource, SampleResource } from "../protocol/resources.ts";
import { type ApiClient, CliError } from "./client.ts";
import { ExitCode } from "./exit-codes.ts";
import { readEvents } from "./sse.ts";

/** What a follower hears from the job's event stream. */
export interface FollowHandlers {
  line(line: LogLineResource): void;
  job?(job: JobResource): void;
  samples?(samples: SampleResource[]): void;
}

/**
 * Streams a job's events (`GET /jobs/:id/events`) to `handlers` until the job
 * ends, and returns the final job. If the stream breaks (a coordinator
 * restart), it reconnects and resumes after the last line it printed.
 */
export async function followJob(
  client: ApiClient,
  jobId: number,
  handlers: FollowHandlers,
): Promise<JobResource> {
  let lastLine = 0;
  let failures = 0;
  for (;;) {
    try {
      const response = await client.stream(`/jobs/${jobId}/events?fromLine=${lastLine}`);
      failures = 0;
      for await (const event of readEvents(response)) {
        if (event.event === "log") {
          for (const line of (JSON.parse(event.data) as { lines: LogLineResource[] }).lines) {
            if (line.lineNo <= lastLine) continue;
            lastLine = line.lineNo;
            handlers.line(line);
          }
        } else if (event.event === "job") {
          handlers.job?.(JSON.parse(event.data) as JobResource);
        } else if (event.event === "samples") {
          handlers.samples?.((JSON.parse(event.data) as { samples: SampleResource[] }).samples);
        } else if (event.event === "end") {
          return client.get<JobResource>(`/jobs/${jobId}`);
        }
      }
    } catch (thrown) {
      if (thrown instanceof CliError && thrown.exitCode !== ExitCode.unreachable) throw thrown;
      failures += 1;
      if (failures > 60) throw thrown;
    }
    const job = await client.get<JobResource>(`/jobs/${jobId}`).catch(() => null);
    if (job && isFinalStatus(job.status)) {
      return job;
    }
    await sleep(1000);
  }
}
