import type { Request, Response } from "express";
import type { FarmEvents } from "../attempts/farm-events.ts";
import { openEventStream } from "./sse.ts";

/**
 * Server-sent events for the whole farm: `job` with the job on every change
 * (a submit, a state change). The dashboard's job list uses it to show new
 * jobs and their progress without reloading. Each event's job is serialized
 * once for all the streams that send it.
 */
export function streamFarmEvents(options: { req: Request; res: Response; events: FarmEvents }): void {
  const { req, res, events } = options;
  const stream = openEventStream(res);
  // A first comment flushes the headers, so the browser's EventSource opens at once.
  res.write(": connected\n\n");
  const unsubscribe = events.on("job", (job) => stream.send("job", job));
  const cleanup = () => {
    stream.close();
    unsubscribe();
  };
  req.on("close", cleanup);
  res.once("close", cleanup); // also when the stream is cut for a client that does not read
}
