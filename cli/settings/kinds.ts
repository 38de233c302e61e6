import { isAbsolute, resolve } from "node:path";
import { ValidationError } from "../../protocol/errors.ts";

/**
 * What a config file may hold for a setting, and how it becomes what the setting's flag would
 * have held: the compile functions then check file values and flag values with the same parsers
 * (readPort, parseSize, parseDuration, parseLabels, ...).
 */
export type Kind =
  /** A string. */
  | "text"
  /** A string; relative to the config file's folder. */
  | "path"
  /** A number, or a string the parser reads (a port, a count, an id). */
  | "number"
  /** A number (of the flag's unit: seconds, or milliseconds for sampleIntervalMs) or a duration: 90s, 15m, 1h30m. */
  | "duration"
  /** A number of bytes or a size: 60g, 2.5Gb, 512M. */
  | "size"
  /** A list of strings, or one string with commas. */
  | "list"
  /** A table of strings ({ pool = "bigmem" }), or one string k=v,k=v. */
  | "labels"
  /** true or false. */
  | "boolean"
  /** A string, or a file that holds it: KEYFile in the file, VARIABLE_FILE in the environment. */
  | "secret";

/** A setting's value as its flag would hold it: text for most, true or false for a switch. */
export type RawValue = string | boolean;

const EXPECTS: Record<Kind, string> = {
  text: "a string",
  path: "a string (a path)",
  number: "a number",
  duration: 'a number or a duration string ("90s", "15m", "1h30m")',
  size: 'a number of bytes or a size string ("60g", "512M")',
  list: 'a list of strings or one string with commas ("a,b")',
  labels: 'a table of strings ({ pool = "bigmem" }) or one string ("pool=bigmem,rack=b")',
  boolean: "true or false",
  secret: "a string",
};

/** What a wrong value is, in words; never the value itself, which may be a secret. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (typeof value === "object") return "a table";
  if (typeof value === "string") return "a string";
  if (typeof value === "boolean") return String(value);
  return `a ${typeof value}`;
}

/** `where` names the file and key in the error, e.g. `memfarm.toml: coordinator.port`. */
export function fromFileValue(kind: Kind, value: unknown, where: string, folder: string): RawValue {
  const wrong = () =>
    new ValidationError("invalid_type", `${where} must be ${EXPECTS[kind]}, not ${describe(value)}`, where);
  switch (kind) {
    case "text":
    case "secret":
      if (typeof value !== "string") throw wrong();
      return value;
    case "path":
      if (typeof value !== "string" || value === "") throw wrong();
      return isAbsolute(value) ? value : resolve(folder, value);
    case "number":
    case "duration":
    case "size":
      if (typeof value === "number" && Number.isFinite(value)) return String(value);
      // A string goes to the parser, which says what is wrong with "abc".
      if (typeof value === "string") return value;
      throw wrong();
    case "list":
      if (typeof value === "string") return value;
      if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value.join(",");
      throw wrong();
    case "labels":
      if (typeof value === "string") return value;
      if (isTable(value) && Object.values(value).every((item) => typeof item === "string")) {
        return Object.entries(value)
          .map(([name, item]) => `${name}=${item}`)
          .join(",");
      }
      throw wrong();
    case "boolean":
      if (typeof value !== "boolean") throw wrong();
      return value;
  }
}

export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
