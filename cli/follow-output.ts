import type { JobResource, LogLineResource } from "../protocol/resources.ts";
import type { ApiClient } from "./client.ts";
import type { CommandContext } from "./context.ts";
import { followJob } from "./follow.ts";
import {
  emptyFollowState,
  type FollowState,
  StatusLine,
  statusText,
  testFromLogLine,
  withJob,
  withSamples,
} from "./status-line.ts";

/** The elapsed time on the status line moves even when the job is quiet. */
const REDRAW_MS = 1000;

function streamOf(context: CommandContext, line: LogLineResource): (text: string) => void {
  return line.stream === "stderr" ? context.stderr : context.stdout;
}

/**
 * Follows a job for a person or a script. Log lines go to stdout (the job's
 * stderr lines to stderr) as plain lines; on a terminal a live status line
 * (phase, elapsed, memory, current test) stays under them. `quiet` prints no
 * log (for `--json`). Returns the final job, with the status line erased.
 */
export async function followWithOutput(
  context: CommandContext,
  client: ApiClient,
  jobId: number,
  options: { quiet?: boolean } = {},
): Promise<JobResource> {
  if (options.quiet) return followJob(client, jobId, { line: () => {} });
  if (!context.isTty) {
    return followJob(client, jobId, { line: (line) => streamOf(context, line)(`${line.text}\n`) });
  }
  const status = new StatusLine(context.stdout, context.columns);
  let state: FollowState = emptyFollowState();
  const redraw = () => status.draw(statusText(state, Date.now()));
  const ticker = setInterval(redraw, REDRAW_MS);
  redraw();
  try {
    return await followJob(client, jobId, {
      line(line) {
        status.printAbove(streamOf(context, line), `${line.text}\n`);
        const test = testFromLogLine(line.text);
        if (test) {
          state = { ...state, currentTest: test };
          redraw();
        }
      },
      job(job) {
        state = withJob(state, job);
        redraw();
      },
      samples(samples) {
        state = withSamples(state, samples);
        redraw();
      },
    });
  } finally {
    clearInterval(ticker);
    status.clear();
  }
}
