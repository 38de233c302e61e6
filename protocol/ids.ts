import { quoted, ValidationError } from "./errors.ts";

/**
 * The ids people type: jobs and API tokens, numbered by SQLite from 1, in URLs
 * (/jobs/42), dashboard links and command lines (memfarm show 42). At most 15
 * digits, so every id stays exact as a JavaScript number.
 */
const ID_TEXT = /^\d{1,15}$/;

/** A job id from a URL, a form or a command line; null if the text is none. */
export function jobIdOrNull(text: unknown): number | null {
  return idOrNull(text);
}

/** A job id from a URL, a form or a command line; a ValidationError naming `field` if the text is none. */
export function parseJobId(text: unknown, field = "id"): number {
  return parseId(text, "job", field);
}

/** An API token's id (memfarm tokens revoke 3), by the same rule as a job's. */
export function parseTokenId(text: unknown, field = "id"): number {
  return parseId(text, "token", field);
}

function idOrNull(text: unknown): number | null {
  if (typeof text !== "string" || !ID_TEXT.test(text)) return null;
  const id = Number(text);
  return id >= 1 ? id : null;
}

function parseId(text: unknown, what: "job" | "token", field: string): number {
  const id = idOrNull(text);
  if (id === null) {
    throw new ValidationError(
      `invalid_${what}_id`,
      `${field}: ${quoted(String(text ?? ""))} is not a ${what} id; ${what} ids are whole numbers like 42`,
      field,
    );
  }
  return id;
}
