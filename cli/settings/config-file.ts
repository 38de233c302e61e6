import { readFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { ValidationError } from "../../protocol/errors.ts";
import { fromFileValue, isTable, type Kind, type RawValue } from "./kinds.ts";
import { nearestKey } from "./nearest-key.ts";
import { SETTINGS } from "./settings.ts";

/** A config file (--config FILE) read and checked: every key known, every value of its kind. */
export interface ConfigFile {
  /** The path as given, which errors name. */
  path: string;
  /** Each key's value as its flag would hold it; a secret given as a file is under KEYFile. */
  values: ReadonlyMap<string, RawValue>;
}

/** The formats a config file may have, by its name's extension. */
const FORMATS: Record<string, { name: string; parse: (text: string) => unknown }> = {
  ".json": { name: "JSON", parse: (text) => JSON.parse(text) },
  ".toml": { name: "TOML", parse: (text) => parseToml(text) },
};

const knownFormats = () =>
  Object.entries(FORMATS)
    .map(([extension, format]) => `${extension} (${format.name})`)
    .join(", ");

/** The file's keys and their kinds: each setting's, and KEYFile for each secret. */
export const FILE_KEYS: ReadonlyMap<string, Kind> = new Map(
  SETTINGS.flatMap((setting): [string, Kind][] =>
    setting.kind === "secret"
      ? [
          [setting.key, "secret"],
          [secretFileKey(setting.key), "path"],
        ]
      : [[setting.key, setting.kind]],
  ),
);

/** Where a config file may give a secret as a file instead: github.token → github.tokenFile. */
export function secretFileKey(key: string): string {
  return `${key}File`;
}

export function readConfigFile(path: string): ConfigFile {
  const format = FORMATS[extname(path).toLowerCase()];
  if (!format) {
    throw new ValidationError(
      "invalid_config",
      `--config ${path}: the format is told by the name's extension; known formats: ${knownFormats()}`,
      "config",
    );
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (thrown) {
    throw new ValidationError(
      "invalid_config",
      `--config ${path}: cannot read it (${(thrown as Error).message})`,
      "config",
    );
  }
  let document: unknown;
  try {
    document = format.parse(text);
  } catch (thrown) {
    throw new ValidationError(
      "invalid_config",
      `${path} is not valid ${format.name}: ${(thrown as Error).message}`,
      "config",
    );
  }
  if (!isTable(document)) {
    throw new ValidationError(
      "invalid_config",
      `${path} must hold a ${format.name === "JSON" ? "JSON object" : "TOML document"} of sections (coordinator, agent, github, log)`,
      "config",
    );
  }
  const folder = dirname(resolve(path));
  const values = new Map<string, RawValue>();
  for (const [key, value] of flatten(document)) {
    const kind = FILE_KEYS.get(key);
    if (kind === undefined) throw unknownKey(path, key);
    values.set(key, fromFileValue(kind, value, `${path}: ${key}`, folder));
  }
  return { path, values };
}

/** section.name → value; what is not a section of names comes out as it is, to be refused by name. */
function* flatten(document: Record<string, unknown>): Generator<[string, unknown]> {
  for (const [section, body] of Object.entries(document)) {
    if (!isTable(body)) {
      yield [section, body];
      continue;
    }
    for (const [name, value] of Object.entries(body)) yield [`${section}.${name}`, value];
  }
}

/** coordinator, agent, github, log. */
export const SETTING_SECTIONS = [
  ...new Set([...FILE_KEYS.keys()].map((key) => key.slice(0, key.indexOf(".")))),
];

function unknownKey(path: string, key: string): ValidationError {
  const nearest = nearestKey(key, [...FILE_KEYS.keys()]);
  const section = key.includes(".") ? key.slice(0, key.indexOf(".")) : "";
  let hint: string;
  if (nearest !== null) hint = `did you mean ${nearest}?`;
  else if (SETTING_SECTIONS.includes(section)) {
    const names = [...FILE_KEYS.keys()].filter((known) => known.startsWith(`${section}.`));
    hint = `the keys of ${section} are ${names.map((known) => known.slice(section.length + 1)).join(", ")}`;
  } else hint = `the sections are ${SETTING_SECTIONS.join(", ")}`;
  return new ValidationError("unknown_key", `${path}: ${key} is not a known key; ${hint}`, key);
}
