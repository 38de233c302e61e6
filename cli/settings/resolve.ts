import { readFileSync } from "node:fs";
import { ValidationError } from "../../protocol/errors.ts";
import { type ConfigFile, readConfigFile, secretFileKey } from "./config-file.ts";
import type { RawValue } from "./kinds.ts";
import { type Daemon, type FieldOf, SETTINGS, type Section, type SettingKey } from "./settings.ts";

/** A setting's value and where it came from, as errors name it: `--port`, `MEMFARM_PORT`, `memfarm.toml: coordinator.port`. */
export interface Resolved {
  value: RawValue;
  from: string;
}

type SettingOf<K extends SettingKey> = Extract<(typeof SETTINGS)[number], { key: K }>;
type ValueOf<K extends SettingKey> = SettingOf<K>["kind"] extends "boolean" ? boolean : string;
/** One section's values, as the options of its compile function take them: coordinator → CoordinatorOptions. */
export type SectionValues<S extends Section> = {
  [F in FieldOf<S>]?: `${S}.${F}` extends SettingKey ? ValueOf<`${S}.${F}`> : never;
};
/** What errors call each of a section's values, by where it came from. */
export type SectionNames<S extends Section> = { [F in FieldOf<S>]?: string };

/** The flag that gives the config file, and the variable that stands in for it. */
export const CONFIG_FLAG = "config";
export const CONFIG_ENV = "MEMFARM_CONFIG";

/** The daemon's flags, for parseCommand: every setting it takes that has a flag, and --config. */
export function flagOptions(daemon: Daemon) {
  const options: Record<string, { type: "string" } | { type: "boolean" }> = {
    [CONFIG_FLAG]: { type: "string" },
  };
  for (const setting of SETTINGS) {
    if (!("flag" in setting) || !(setting.daemons as readonly Daemon[]).includes(daemon)) continue;
    options[setting.flag] = { type: setting.kind === "boolean" ? "boolean" : "string" };
  }
  return options;
}

/** The daemon's settings, each from the first place that has it: flag, environment, config file. */
export class Settings {
  constructor(private readonly resolved: ReadonlyMap<SettingKey, Resolved>) {}

  get(key: SettingKey): Resolved | undefined {
    return this.resolved.get(key);
  }

  section<S extends Section>(section: S): { values: SectionValues<S>; names: SectionNames<S> } {
    const values: Record<string, RawValue> = {};
    const names: Record<string, string> = {};
    for (const [key, { value, from }] of this.resolved) {
      if (!key.startsWith(`${section}.`)) continue;
      const field = key.slice(section.length + 1);
      values[field] = value;
      names[field] = from;
    }
    return { values: values as SectionValues<S>, names: names as SectionNames<S> };
  }
}

/**
 * Reads the config file (--config FILE, else MEMFARM_CONFIG) if one is given, and resolves every
 * setting the daemon takes. Every key of the file is checked (known, of its kind) whichever keys
 * this daemon uses, so that a typo shows at the first start of any daemon; the values this daemon
 * uses are then parsed by its compile function.
 */
export function loadSettings(
  daemon: Daemon,
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): Settings {
  const fromFlag = flags[CONFIG_FLAG];
  const path = typeof fromFlag === "string" ? fromFlag : env[CONFIG_ENV] || undefined;
  return resolveSettings(daemon, flags, env, path === undefined ? null : readConfigFile(path));
}

export function resolveSettings(
  daemon: Daemon,
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
  file: ConfigFile | null,
): Settings {
  const resolved = new Map<SettingKey, Resolved>();
  for (const setting of SETTINGS) {
    if (!(setting.daemons as readonly Daemon[]).includes(daemon)) continue;
    const found =
      fromFlag(setting, flags) ??
      fromEnv(setting, env) ??
      (file === null ? undefined : fromFile(setting, file));
    if (found !== undefined) resolved.set(setting.key, found);
  }
  return new Settings(resolved);
}

type AnySetting = (typeof SETTINGS)[number];

function fromFlag(setting: AnySetting, flags: Record<string, string | boolean | undefined>) {
  if (!("flag" in setting)) return undefined;
  const value = flags[setting.flag];
  return value === undefined ? undefined : { value, from: `--${setting.flag}` };
}

/** An empty variable counts as unset, as a shell's `VAR= memfarm ...` means. */
function fromEnv(setting: AnySetting, env: NodeJS.ProcessEnv): Resolved | undefined {
  if (!("env" in setting)) return undefined;
  const value = env[setting.env] || undefined;
  if (setting.kind !== "secret") return value === undefined ? undefined : { value, from: setting.env };
  const fileVariable = `${setting.env}_FILE`;
  return secret(
    value === undefined ? undefined : { value, from: setting.env },
    env[fileVariable] || undefined,
    fileVariable,
  );
}

function fromFile(setting: AnySetting, file: ConfigFile): Resolved | undefined {
  const value = file.values.get(setting.key);
  const here = (key: string) => `${file.path}: ${key}`;
  if (setting.kind !== "secret") return value === undefined ? undefined : { value, from: here(setting.key) };
  const fileKey = secretFileKey(setting.key);
  const secretFile = file.values.get(fileKey);
  return secret(
    value === undefined ? undefined : { value, from: here(setting.key) },
    typeof secretFile === "string" ? secretFile : undefined,
    here(fileKey),
  );
}

/** A secret from one place: given there itself, or as a file to read; not both. */
function secret(direct: Resolved | undefined, file: string | undefined, fileFrom: string) {
  if (file === undefined) return direct;
  if (direct !== undefined) {
    throw new ValidationError(
      "invalid_config",
      `${direct.from} and ${fileFrom} both give the same secret; keep one`,
      fileFrom,
    );
  }
  return { value: readSecretFile(file, fileFrom), from: fileFrom };
}

/** A secret's file: its content less the newline an editor or `echo` leaves at the end. Errors never show it. */
function readSecretFile(path: string, from: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (thrown) {
    const reason = (thrown as NodeJS.ErrnoException).code ?? (thrown as Error).message;
    throw new ValidationError("invalid_config", `${from}: cannot read ${path} (${reason})`, from);
  }
  const secret = text.replace(/\r?\n$/, "");
  if (secret === "") throw new ValidationError("invalid_config", `${from}: ${path} is empty`, from);
  return secret;
}
