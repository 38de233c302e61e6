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

/**
 * An attempt id names its job and its number within the job: `12-3` is the third attempt of job
 * 12. It is the only id that travels between the coordinator and an agent.
 */
export function attemptIdFor(jobId: number, number: number): string {
  return `${jobId}-${number}`;
}

/** The job an attempt id belongs to, as its text (`12` of `12-3`): for an agent's logs and messages. */
export function jobOfAttempt(attemptId: string): string {
  const dash = attemptId.lastIndexOf("-");
  return dash > 0 ? attemptId.slice(0, dash) : attemptId;
}
