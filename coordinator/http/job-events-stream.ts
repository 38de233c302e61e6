import type { Request, Response } from "express";
import { isFinalStatus } from "../../protocol/job-status.ts";
import type { FarmEvents } from "../attempts/farm-events.ts";
import type { Store } from "../store/store.ts";

const KEEPALIVE_MS = 15_000;

/**
 * Server-sent events for one job: `job` (the job, on every change), `log`
 * (numbered lines), `samples`, and `end` once the job has finished. With
 * `?fromLine=N` the stream first replays the stored log after line N, so a
 * follower sees every line exactly once.
 */
export function streamJobEvents(options: {
  req: Request;
  res: Response;
  store: Store;
  events: FarmEvents;
  jobId: number;
}): void {
  const { req, res, store, events, jobId } = options;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  const send = (event: string, data: unknown) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  let lastLine = Number(req.query.fromLine ?? 0) || 0;
  let ended = false;

  const finish = () => {
    if (ended) return;
    ended = true;
    cleanup();
    send("end", {});
    res.end();
  };
  const sendLines = () => {
    const lines = store.logs.read(jobId, lastLine);
    if (lines.length === 0) return;
    lastLine = lines.at(-1)?.lineNo ?? lastLine;
    send("log", { lines });
  };
  const unsubscribers = [
    events.on("log", ({ jobId: id }) => {
      if (id === jobId) sendLines();
    }),
    events.on("samples", ({ jobId: id, samples }) => {
      if (id === jobId) send("samples", { samples });
    }),
    events.on("job", (job) => {
      if (job.id !== jobId) return;
      sendLines();
      send("job", job);
      if (isFinalStatus(job.status)) finish();
    }),
  ];
  const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
  const cleanup = () => {
    clearInterval(keepalive);
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
  req.on("close", cleanup);

  const job = store.jobs.get(jobId);
  sendLines();
  if (job) send("job", job);
  if (job && isFinalStatus(job.status)) finish();
}
