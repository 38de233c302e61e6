import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { coerceError, MemfarmError, ValidationError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { agentOfSubject, MAX_MESSAGE_BYTES } from "./subjects.ts";
import { readObject } from "./validate.ts";

/**
 * One request/reply exchange between the coordinator and an agent: the subject it travels on,
 * how each side reads what it receives, and (for requests agents send) whose name the body
 * speaks in. Both ends use the same descriptor, so a request and its reply have one type each.
 */
export interface Endpoint<Request, Reply> {
  /** What the logs call it: `register`, `assign`. */
  name: string;
  subject: (agent: string) => string;
  parseRequest: (data: Uint8Array | string) => Request;
  parseReply: (fields: Record<string, unknown>) => Reply;
  /** For requests an agent sends: the agent the body speaks for, which must be the subject's. */
  speaker?: (request: Request) => string;
}

/**
 * Every reply is an envelope: `{ ok: true, ...reply }`, or `{ ok: false, code, error, field? }`
 * with the stable `code` of protocol/errors.ts and a message a person can act on.
 */
export interface ErrorReply {
  ok: false;
  code: string;
  error: string;
  field?: string;
}

/** The other side refused a request (bad input, not its own attempt); `code` says which rule. */
export class RemoteError extends MemfarmError {}

export interface ServeOptions<Request, Reply> {
  /** The subject to listen on: the endpoint's own for one agent, or its wildcard for all. */
  subject: string;
  /** A queue group, so several coordinator processes could share the load. */
  queue?: string;
  log: Logger;
  handle: (request: Request, subject: string) => Reply | Promise<Reply>;
}

/**
 * Answers an endpoint's requests: checks the size and the sender, parses, runs the handler and
 * replies with its typed answer; anything thrown on the way is logged and answered with the error
 * envelope, and changes nothing. A message without a reply subject is handled the same way.
 */
export function serveEndpoint<Request, Reply extends object>(
  nc: NatsConnection,
  endpoint: Endpoint<Request, Reply>,
  options: ServeOptions<Request, Reply>,
): Subscription {
  const reject = (subject: string, reply: string | undefined, thrown: unknown) => {
    const error = errorReply(thrown);
    options.log.warn(`rejected a ${endpoint.name} request`, {
      subject,
      code: error.code,
      error: error.error,
    });
    if (reply) nc.publish(reply, JSON.stringify(error));
  };
  return nc.subscribe(options.subject, {
    ...(options.queue ? { queue: options.queue } : {}),
    callback: (error, msg) => {
      if (error) return;
      try {
        if (msg.data.length > MAX_MESSAGE_BYTES) {
          throw new ValidationError(
            "too_large",
            `a ${endpoint.name} request is at most ${MAX_MESSAGE_BYTES} bytes`,
          );
        }
        const request = endpoint.parseRequest(msg.data);
        if (endpoint.speaker) checkSpeaker(msg.subject, endpoint.speaker(request));
        Promise.resolve(options.handle(request, msg.subject))
          .then((reply) => msg.reply && msg.respond(JSON.stringify({ ok: true, ...reply })))
          .catch((thrown: unknown) => reject(msg.subject, msg.reply, thrown));
      } catch (thrown) {
        reject(msg.subject, msg.reply, thrown);
      }
    },
  });
}

/** Sends a request to an endpoint and reads its reply; a refusal throws RemoteError with its code. */
export async function callEndpoint<Request, Reply>(
  nc: NatsConnection,
  endpoint: Endpoint<Request, Reply>,
  agent: string,
  request: Request,
  timeoutMs: number,
): Promise<Reply> {
  const message = await nc.request(endpoint.subject(agent), JSON.stringify(request), { timeout: timeoutMs });
  return readReply(endpoint, message.data);
}

/** Reads a reply envelope: the typed reply, or the refusal it carries as a RemoteError. */
export function readReply<Request, Reply>(
  endpoint: Endpoint<Request, Reply>,
  data: Uint8Array | string,
): Reply {
  const text = typeof data === "string" ? data : new TextDecoder().decode(data);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError("invalid_json", `the ${endpoint.name} reply is not JSON`);
  }
  const fields = readObject(value, `${endpoint.name} reply`);
  if (fields.ok !== true) {
    const code = typeof fields.code === "string" ? fields.code : "refused";
    const error =
      typeof fields.error === "string" ? fields.error : `the ${endpoint.name} request was refused`;
    throw new RemoteError(code, error.slice(0, 1000));
  }
  return endpoint.parseReply(fields);
}

function errorReply(thrown: unknown): ErrorReply {
  const error = coerceError(thrown);
  const code = error instanceof MemfarmError ? error.code : "internal";
  const field = error instanceof ValidationError ? error.field : undefined;
  return { ok: false, code, error: error.message, ...(field ? { field } : {}) };
}

/** An agent speaks only for itself: the name in the body must be the one in the subject. */
function checkSpeaker(subject: string, name: string): void {
  const sender = agentOfSubject(subject);
  if (sender !== name) {
    throw new ValidationError("wrong_sender", `agent ${sender ?? "?"} sent a message in the name of ${name}`);
  }
}
