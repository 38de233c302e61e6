import type { RequestHandler } from "express";

/**
 * Adds `Server-Timing: app;dur=MS` to every response: the time from the
 * request reaching express to the response's head, without the network, so a
 * benchmark or a browser's devtools can tell server time from transfer time.
 * For a streamed body (server-sent events) it is the time to the first byte.
 */
export function serverTiming(): RequestHandler {
  return (_req, res, next) => {
    const start = process.hrtime.bigint();
    const writeHead = res.writeHead;
    res.writeHead = function (this: typeof res, ...args: unknown[]) {
      if (!this.headersSent) {
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        this.setHeader("Server-Timing", `app;dur=${ms.toFixed(2)}`);
      }
      return (writeHead as (...rest: unknown[]) => typeof res).apply(this, args);
    } as typeof res.writeHead;
    next();
  };
}
