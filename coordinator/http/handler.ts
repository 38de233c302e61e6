import type { NextFunction, Request, Response } from "express";
import {
  ConflictError,
  coerceError,
  MemfarmError,
  NotFoundError,
  ValidationError,
} from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { ApiErrorBody } from "../../protocol/resources.ts";
import { type StorageHealth, StorageUnavailableError } from "../store/storage-health.ts";
import { JsonText } from "./json-text.ts";

/** What a handler sees of a request. */
export interface HandlerInput {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: unknown;
  /** The owner of the bearer token, when the route requires one. */
  requester: string;
}

export interface HandlerOutput {
  status: number;
  /** Sent as JSON; a JsonText is JSON already. */
  body: unknown;
}

export type Handler = (input: HandlerInput) => HandlerOutput | Promise<HandlerOutput>;

export class AuthError extends MemfarmError {
  /**
   * @param bearerError RFC 6750's `error` for the WWW-Authenticate header: "invalid_token" when a
   * token was sent but is not valid; none when no usable token was sent.
   */
  constructor(
    message: string,
    readonly bearerError?: "invalid_token",
  ) {
    super("unauthorized", message);
  }
}

/** RFC 6750's challenge: tells an HTTP client that this API takes a bearer token. */
function bearerChallenge(error: AuthError): string {
  return error.bearerError
    ? `Bearer realm="memfarm", error="${error.bearerError}"`
    : 'Bearer realm="memfarm"';
}

/** A valid token that may not do this (only the farm's admin token manages tokens). */
export class ForbiddenError extends MemfarmError {
  constructor(message: string) {
    super("forbidden", message);
  }
}

/** Wraps a handler as express middleware: plain data in, plain data out, errors to the error middleware. */
export function adapt(
  handler: Handler,
  authenticate?: (req: Request) => string,
): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    Promise.resolve()
      .then(() => {
        const requester = authenticate ? authenticate(req) : "anonymous";
        const query: Record<string, string | undefined> = {};
        for (const [key, value] of Object.entries(req.query))
          if (typeof value === "string") query[key] = value;
        return handler({ params: req.params as Record<string, string>, query, body: req.body, requester });
      })
      .then((output) =>
        output.body instanceof JsonText
          ? sendJsonText(res, output.status, output.body)
          : res.status(output.status).json(output.body),
      )
      .catch(next);
  };
}

function sendJsonText(res: Response, status: number, body: JsonText): void {
  if (body.etag !== undefined) res.set("ETag", body.etag);
  res.status(status).type("json").send(body.text);
}

/** Maps errors to `{"error": {code, message, field}}` with the matching status; unknown errors are 500 and logged. */
export function errorMiddleware(log: Logger, storage?: StorageHealth) {
  return (thrown: unknown, req: Request, res: Response, _next: NextFunction): void => {
    // A full disk or a read-only database: 503 naming the file, logged once for the whole fault.
    if (storage?.failed(thrown)) {
      if (res.headersSent) res.end();
      else res.status(503).set("retry-after", "10").json(toErrorResponse(storage.unavailable())[1]);
      return;
    }
    const [status, body] = toErrorResponse(thrown);
    if (status >= 500)
      log.error("request failed", { method: req.method, path: req.path, error: coerceError(thrown).stack });
    if (res.headersSent) {
      res.end();
      return;
    }
    if (thrown instanceof AuthError) res.set("www-authenticate", bearerChallenge(thrown));
    res.status(status).json(body);
  };
}

function toErrorResponse(thrown: unknown): [number, ApiErrorBody] {
  const bodyError = thrown as { type?: string; status?: number; limit?: number };
  if (bodyError?.type === "entity.too.large") {
    return [
      413,
      {
        error: {
          code: "body_too_large",
          message: `the request body is larger than the ${bodyError.limit} bytes allowed`,
        },
      },
    ];
  }
  if (bodyError?.type === "entity.parse.failed") {
    return [400, { error: { code: "invalid_json", message: "the request body is not valid JSON" } }];
  }
  if (bodyError?.type === "encoding.unsupported" || bodyError?.type === "charset.unsupported") {
    return [415, { error: { code: "unsupported_encoding", message: "send the body as UTF-8 JSON" } }];
  }
  if (thrown instanceof ValidationError) {
    return [
      400,
      {
        error: {
          code: thrown.code,
          message: thrown.message,
          ...(thrown.field ? { field: thrown.field } : {}),
        },
      },
    ];
  }
  if (thrown instanceof NotFoundError)
    return [404, { error: { code: thrown.code, message: thrown.message } }];
  if (thrown instanceof ConflictError)
    return [409, { error: { code: thrown.code, message: thrown.message } }];
  if (thrown instanceof AuthError) return [401, { error: { code: thrown.code, message: thrown.message } }];
  if (thrown instanceof ForbiddenError)
    return [403, { error: { code: thrown.code, message: thrown.message } }];
  if (thrown instanceof StorageUnavailableError)
    return [503, { error: { code: thrown.code, message: thrown.message } }];
  return [
    500,
    {
      error: {
        code: "internal",
        message: "the coordinator failed to handle this request; its log has the details",
      },
    },
  ];
}
