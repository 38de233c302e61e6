import type { Request, Response } from "express";
import { isFinalStatus } from "../../protocol/job-status.ts";
import type { LogLineResource } from "../../protocol/resources.ts";
import type { FarmEvents } from "../attempts/farm-events.ts";
import type { Store } from "../store/store.ts";
import { openEventStream } from "./sse.ts";

/**
 * Server-sent events for one job: `job` (the job, on every change), `log`
 * (numbered lines), `samples`, and `end` once the job has finished. With
 * `?fromLine=N` the stream first replays the stored log after line N, so a
 * follower sees every line exactly once. After that the lines come from the
 * events themselves; the store is read again only to fill a gap.
 */
export function streamJobEvents(options: {
  req: Request;
  res: Response;
  store: Store;
  events: FarmEvents;
  jobId: number;
}): void {
  const { req, res, store, events, jobId } = options;
  const stream = openEventStream(res);
  let lastLine = Number(req.query.fromLine ?? 0) || 0;
  let ended = false;

  const finish = () => {
    if (ended) return;
    ended = true;
    cleanup();
    stream.send("end", {});
    res.end();
  };
  const sendLines = (lines: LogLineResource[]) => {
    const first = lines[0];
    const last = lines.at(-1);
    if (!first || !last || last.lineNo <= lastLine) return;
    // Lines are numbered without gaps: lines that do not follow on from the last one sent mean a
    // hole (or an overlap) this stream fills from the store.
    const next = first.lineNo === lastLine + 1 ? lines : store.logs.read(jobId, lastLine);
    lastLine = next.at(-1)?.lineNo ?? lastLine;
    stream.send("log", { lines: next }, next);
  };
  const unsubscribers = [
    events.on("log", (event) => {
      if (event.jobId === jobId) sendLines(event.lines);
    }),
    events.on("samples", (event) => {
      if (event.jobId === jobId) stream.send("samples", { samples: event.samples }, event.samples);
    }),
    events.on("job", (job) => {
      if (job.id !== jobId) return;
      stream.send("job", job);
      if (isFinalStatus(job.status)) finish();
    }),
  ];
  const cleanup = () => {
    stream.close();
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
  req.on("close", cleanup);
  res.once("close", cleanup); // also when the stream is cut for a client that does not read

  const job = store.jobs.get(jobId);
  sendLines(store.logs.read(jobId, lastLine));
  if (job) stream.send("job", job);
  if (job && isFinalStatus(job.status)) finish();
}
