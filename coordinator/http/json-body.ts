import express, { type NextFunction, type Request, type Response } from "express";
import { ValidationError } from "../../protocol/errors.ts";

/** Request bodies are small JSON documents; anything larger is refused with 413. */
const MAX_BODY = "64kb";
const JSON_TYPES = ["application/json", "application/*+json"];

/**
 * Body parsing for the API: a body must say it is JSON (a form or text/plain
 * post is refused with 415 rather than guessed at), and is parsed with a size
 * limit; body-parser's own errors become 400 and 413 in the error middleware.
 */
export function jsonBody(): express.RequestHandler[] {
  const requireJsonType = (req: Request, res: Response, next: NextFunction): void => {
    // req.is is null when there is no body, false when the body is of another type; an empty
    // body (a POST without one sends Content-Length: 0) has no type to check.
    const empty = req.headers["content-length"] === "0" && req.headers["transfer-encoding"] === undefined;
    if (!empty && req.is(JSON_TYPES) === false) {
      res.status(415).json({
        error: {
          code: "unsupported_media_type",
          message: "send the request body as JSON, with Content-Type: application/json",
        },
      });
      return;
    }
    next();
  };
  return [requireJsonType, express.json({ limit: MAX_BODY, type: JSON_TYPES })];
}

/** For calls that take no body: none, or `{}`; anything else is a mistake worth saying so. */
export function expectNoBody(body: unknown): void {
  if (body === undefined || body === null) return;
  if (typeof body === "object" && !Array.isArray(body) && Object.keys(body).length === 0) return;
  throw new ValidationError("unexpected_body", "this call takes no request body; send none (or {})");
}
