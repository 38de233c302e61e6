import type { Response } from "express";

const KEEPALIVE_MS = 15_000;
/**
 * What a stream may hold unsent for a client that reads too slowly (or not at all). Past it the
 * stream is cut: the client reconnects and resumes (the dashboard and `--follow` ask for the lines
 * after the last one they have), and the coordinator's memory stays bounded however many such
 * clients there are.
 */
export const MAX_UNSENT_BYTES = 1024 * 1024;
/** One JSON text per event payload, however many streams send it. */
const serialized = new WeakMap<object, string>();

/** Opens a server-sent event stream on `res`; returns how to send an event and how to stop the keepalive. */
export function openEventStream(res: Response): {
  /** `key`: the object the text is cached by (the event's own payload, shared by every stream). */
  send: (event: string, data: object, key?: object) => void;
  close: () => void;
} {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
  res.once("close", () => clearInterval(keepalive));
  return {
    send: (event, data, key = data) => {
      let text = serialized.get(key);
      if (text === undefined) {
        text = JSON.stringify(data);
        serialized.set(key, text);
      }
      res.write(`event: ${event}\ndata: ${text}\n\n`);
      if (res.writableLength > MAX_UNSENT_BYTES) res.destroy();
    },
    close: () => clearInterval(keepalive),
  };
}
