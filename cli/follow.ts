import { setTimeout as sleep } from "node:timers/promises";
import { isFinalStatus } from "../protocol/job-status.ts";
import type { JobResource, LogLineResource } from "../protocol/resources.ts";
import { type ApiClient, CliError } from "./client.ts";
import { readEvents } from "./sse.ts";

/**
 * Streams a job's log to `write` until the job ends, and returns the final
 * job. If the stream breaks (a coordinator restart), it reconnects and
 * resumes after the last line it printed.
 */
export async function followJob(
  client: ApiClient,
  jobId: number,
  write: (line: LogLineResource) => void,
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
            write(line);
          }
        }
        if (event.event === "end") return client.get<JobResource>(`/jobs/${jobId}`);
      }
    } catch (thrown) {
      if (thrown instanceof CliError && thrown.exitCode !== 7) throw thrown;
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
