import type { Request, Response } from "express";
import type { FarmEvents } from "../attempts/farm-events.ts";

const KEEPALIVE_MS = 15_000;

/**
 * Server-sent events for the whole farm: `job` with the job on every change
 * (a submit, a state change). The dashboard's job list uses it to show new
 * jobs and their progress without reloading.
 */
export function streamFarmEvents(options: { req: Request; res: Response; events: FarmEvents }): void {
  const { req, res, events } = options;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  // A first comment flushes the headers, so the browser's EventSource opens at once.
  res.write(": connected\n\n");
  const unsubscribe = events.on("job", (job) => {
    res.write(`event: job\ndata: ${JSON.stringify(job)}\n\n`);
  });
  const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
  req.on("close", () => {
    clearInterval(keepalive);
    unsubscribe();
  });
}
