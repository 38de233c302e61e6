import { quoted, ValidationError } from "./errors.ts";

/**
 * Small readers for untrusted JSON (HTTP bodies, NATS messages, suite files).
 * Each names the field it rejects, so the error tells a person what to change.
 */
export type Fields = Record<string, unknown>;

export function readObject(value: unknown, field: string): Fields {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ValidationError("invalid_type", `${field} must be a JSON object`, field);
  }
  return value as Fields;
}

export function readString(fields: Fields, key: string, where = ""): string {
  const value = fields[key];
  if (typeof value !== "string") {
    throw new ValidationError("invalid_type", `${where}${key} must be a string`, `${where}${key}`);
  }
  return value;
}

export function readOptionalString(fields: Fields, key: string, where = ""): string | undefined {
  return fields[key] === undefined || fields[key] === null ? undefined : readString(fields, key, where);
}

export function readNumber(fields: Fields, key: string, where = ""): number {
  const value = fields[key];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ValidationError("invalid_type", `${where}${key} must be a number`, `${where}${key}`);
  }
  return value;
}

export function readOptionalNumber(fields: Fields, key: string, where = ""): number | undefined {
  return fields[key] === undefined || fields[key] === null ? undefined : readNumber(fields, key, where);
}

export function readBoolean(fields: Fields, key: string, where = ""): boolean {
  const value = fields[key];
  if (typeof value !== "boolean") {
    throw new ValidationError("invalid_type", `${where}${key} must be true or false`, `${where}${key}`);
  }
  return value;
}

export function readStringArray(fields: Fields, key: string, where = ""): string[] {
  const value = fields[key];
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new ValidationError("invalid_type", `${where}${key} must be a list of strings`, `${where}${key}`);
  }
  return value as string[];
}

export function readOptionalStringArray(fields: Fields, key: string, where = ""): string[] | undefined {
  return fields[key] === undefined || fields[key] === null ? undefined : readStringArray(fields, key, where);
}

export function readStringRecord(fields: Fields, key: string, where = ""): Record<string, string> {
  const value = fields[key];
  if (value === undefined || value === null) return {};
  const record = readObject(value, `${where}${key}`);
  for (const [name, item] of Object.entries(record)) {
    if (typeof item !== "string") {
      throw new ValidationError(
        "invalid_type",
        `${where}${key}.${name} must be a string`,
        `${where}${key}.${name}`,
      );
    }
  }
  return record as Record<string, string>;
}

/** Rejects keys the reader does not know, so a typo in a request or file is not silently ignored. */
export function rejectUnknownKeys(fields: Fields, known: readonly string[], where = ""): void {
  for (const key of Object.keys(fields)) {
    if (!known.includes(key)) {
      throw new ValidationError(
        "unknown_field",
        `${where}${key} is not a known field; known fields are ${known.join(", ")}`,
        `${where}${key}`,
      );
    }
  }
}

export function readEnum<T extends string>(
  fields: Fields,
  key: string,
  allowed: readonly T[],
  where = "",
): T {
  const value = readString(fields, key, where);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(
      "invalid_value",
      `${where}${key} must be one of ${allowed.join(", ")}, not ${quoted(value)}`,
      `${where}${key}`,
    );
  }
  return value as T;
}
