/**
 * The few error classes every part shares. Each has a stable `code` that
 * scripts and the HTTP API rely on; `field` names the input a person should change.
 */
export class MemfarmError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input from a person or a peer: the message says what to change. */
export class ValidationError extends MemfarmError {
  readonly field: string | undefined;
  constructor(code: string, message: string, field?: string) {
    super(code, message);
    this.field = field;
  }
}

/** A lookup that found nothing (unknown job id, unknown agent). */
export class NotFoundError extends MemfarmError {
  constructor(message: string) {
    super("not_found", message);
  }
}

/** A request that is well-formed but not allowed in the current state. */
export class ConflictError extends MemfarmError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** Turns anything thrown into an Error, so catch sites can log it uniformly. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === "string" ? thrown : JSON.stringify(thrown));
}

/** How much of a rejected value an error message repeats. */
const QUOTED_LIMIT = 80;

/**
 * A rejected value quoted in an error message: JSON-escaped (a newline in it cannot forge a log
 * line) and cut short, so a megabyte of bad input does not come back as a megabyte of error
 * (nor overflow the NATS reply that carries it).
 */
export function quoted(text: string): string {
  return JSON.stringify(text.length > QUOTED_LIMIT ? `${text.slice(0, QUOTED_LIMIT)}…` : text);
}
