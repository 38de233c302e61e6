import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { writePrivateFile } from "../protocol/private-file.ts";
import { CliError } from "./client.ts";
import { ExitCode } from "./exit-codes.ts";

/**
 * Profiles: the farms this user's CLI knows, so that a command finds its farm without --url and
 * --token (as `gh auth` keeps hosts and lavacli keeps identities). `memfarm up` and `memfarm
 * coordinator` save one for the farm they start; `memfarm login` saves one for a remote farm.
 * A profile holds the farm's URL and the path of a file with the token, never the token itself:
 * a local farm's token stays in its data dir, and a token given to `login` goes to a file of its
 * own beside the profiles (mode 0600). The current profile is the one a command uses when neither
 * a flag nor the environment names a farm.
 */
export interface Profile {
  url: string;
  tokenFile: string;
  savedBy: "up" | "coordinator" | "login";
  savedAt: string;
}

export interface Profiles {
  /** The profile commands use when no --url or MEMFARM_URL is given; null when none is. */
  current: string | null;
  profiles: Record<string, Profile>;
}

/** Where profiles live: $XDG_CONFIG_HOME/memfarm/ (an absolute one, as the XDG spec says), else ~/.config/memfarm/. */
export function configDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".config");
  return join(base, "memfarm");
}

export const profilesFile = (env: NodeJS.ProcessEnv) => join(configDir(env), "profiles.json");

/** Where `memfarm login --token` keeps the token of profile `name`. */
export const loginTokenFile = (env: NodeJS.ProcessEnv, name: string) =>
  join(configDir(env), "tokens", `${name.replace(/[^A-Za-z0-9.-]/g, "_")}.token`);

/**
 * A coordinator's URL as profiles compare it: http(s) only, no trailing slash. A farm behind a
 * proxy may have a path; credentials in the URL are refused (they would end up in a file).
 */
export function normalizeUrl(text: string, where: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(
      `${where} ${JSON.stringify(text)} is not a URL; write it like http://127.0.0.1:8080`,
      ExitCode.usage,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(`${where} must start with http:// or https://, not ${url.protocol}//`, ExitCode.usage);
  }
  if (url.username || url.password) {
    throw new CliError(
      `${where} must not hold a user or password; give the token with --token`,
      ExitCode.usage,
    );
  }
  if (url.search || url.hash) {
    throw new CliError(`${where} must not have a query or fragment: ${JSON.stringify(text)}`, ExitCode.usage);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** A profile's name: the farm's host and port (and path, if any), as gh names hosts. */
export function profileName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname.replace(/\/+$/, "")}`;
}

/** The profiles in `file`; none when it does not exist. A broken file is an error that says how to fix it. */
export function readProfiles(file: string): Profiles {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (thrown) {
    if ((thrown as NodeJS.ErrnoException).code === "ENOENT") return { current: null, profiles: {} };
    throw new CliError(`cannot read the profiles in ${file}: ${(thrown as Error).message}`, ExitCode.usage);
  }
  const broken = (why: string) =>
    new CliError(
      `the profiles in ${file} are broken (${why}); fix the file, or remove it and run "memfarm login" or "memfarm up" again`,
      ExitCode.usage,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (thrown) {
    throw broken((thrown as Error).message);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw broken("not a JSON object");
  const { current, profiles } = parsed as { current?: unknown; profiles?: unknown };
  if (current !== null && current !== undefined && typeof current !== "string")
    throw broken('"current" must be a profile name or null');
  if (typeof profiles !== "object" || profiles === null || Array.isArray(profiles))
    throw broken('"profiles" must be an object of profiles by name');
  const checked: Record<string, Profile> = {};
  for (const [name, profile] of Object.entries(profiles as Record<string, unknown>)) {
    const fields = (typeof profile === "object" && profile !== null ? profile : {}) as Record<
      string,
      unknown
    >;
    if (typeof fields.url !== "string" || typeof fields.tokenFile !== "string")
      throw broken(`profile ${JSON.stringify(name)} needs "url" and "tokenFile" strings`);
    checked[name] = {
      url: fields.url,
      tokenFile: fields.tokenFile,
      savedBy: fields.savedBy === "up" || fields.savedBy === "coordinator" ? fields.savedBy : "login",
      savedAt: typeof fields.savedAt === "string" ? fields.savedAt : "",
    };
  }
  return { current: typeof current === "string" && current in checked ? current : null, profiles: checked };
}

/**
 * Writes the profiles by rename (mode 0600), so a CLI reading at the same moment sees the old file
 * or the new one, never half of one. Two writers at the very same moment: the last one wins.
 */
export async function writeProfiles(file: string, profiles: Profiles): Promise<void> {
  await writePrivateFile(file, `${JSON.stringify(profiles, null, 2)}\n`);
}

/** Saves `profile` under its name and makes it the current one; returns the name. */
export async function saveProfile(
  env: NodeJS.ProcessEnv,
  profile: Omit<Profile, "savedAt">,
): Promise<{ name: string; file: string }> {
  const file = profilesFile(env);
  const name = profileName(profile.url);
  const profiles = readProfiles(file);
  profiles.profiles[name] = { ...profile, savedAt: new Date().toISOString() };
  profiles.current = name;
  await writeProfiles(file, profiles);
  return { name, file };
}

/** The profile for `url`, if one was saved. */
export function profileFor(profiles: Profiles, url: string): { name: string; profile: Profile } | null {
  for (const [name, profile] of Object.entries(profiles.profiles)) {
    if (profile.url === url) return { name, profile };
  }
  return null;
}
