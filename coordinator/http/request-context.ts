import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import type { Logger } from "../../protocol/logger.ts";
import { withLogContext } from "../../protocol/logger.ts";

/** A caller's own request id is kept when it is a plain token (a proxy's id); anything else is replaced. */
const CALLER_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives each HTTP request an id (the caller's `X-Request-Id` when it is a plain token, else a new
 * UUID), answers it in `X-Request-Id`, and runs the request in a log context that carries it, so
 * every line logged while the request is handled names it. When the response is sent, one line
 * says what was asked and how it ended: at debug level, or warn for a server error.
 */
export function requestContext(log: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get("x-request-id");
    const requestId = given && CALLER_ID.test(given) ? given : randomUUID();
    res.setHeader("X-Request-Id", requestId);
    const started = process.hrtime.bigint();
    withLogContext({ requestId }, () => {
      res.once("finish", () => {
        const fields = {
          method: req.method,
          path: req.originalUrl.split("?")[0],
          status: res.statusCode,
          ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
        };
        withLogContext({ requestId }, () =>
          res.statusCode >= 500 ? log.warn("http request failed", fields) : log.debug("http request", fields),
        );
      });
      next();
    });
  };
}
