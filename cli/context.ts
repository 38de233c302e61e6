import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_COORDINATOR_URL, defaultDataDir } from "../protocol/coordinator-address.ts";
import { ApiClient } from "./client.ts";
import { normalizeUrl, profileFor, profilesFile, readProfiles } from "./profiles.ts";

/** What every command gets: its arguments, the environment, the API client and output sinks. */
export interface CommandContext {
  args: string[];
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** stdout is a terminal: a live status line may be drawn (never on piped output). */
  isTty: boolean;
  /** The terminal's width, for fitting the status line. */
  columns: () => number;
}

/** Which farm a command talks to, with what token, and where each came from (for error messages). */
export interface Connection {
  url: string;
  urlFrom: string;
  token: string | undefined;
  tokenFrom: string;
}

/** A URL of this machine (127.0.0.0/8, ::1, localhost): one the local farm's admin token may go to. */
function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The first non-empty line of a token file; undefined when the file is missing or empty. */
function readTokenFile(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim().split("\n")[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Global options, each from the first place that has it: a flag, then the environment, then the
 * current profile (cli/profiles.ts), then the default.
 *   URL:   --url, MEMFARM_URL, the current profile, http://127.0.0.1:8080.
 *   token: --token, --data-dir's admin-token, MEMFARM_TOKEN, MEMFARM_DATA_DIR's admin-token, the
 *          profile saved for that URL, the default data dir's admin-token (a URL of this machine only).
 */
export function resolveConnection(
  options: { url?: string; token?: string; dataDir?: string },
  env: NodeJS.ProcessEnv,
): Connection {
  const file = profilesFile(env);
  const profiles = readProfiles(file);
  const current = profiles.current === null ? undefined : profiles.profiles[profiles.current];
  let url: string;
  let urlFrom: string;
  if (options.url) [url, urlFrom] = [normalizeUrl(options.url, "--url"), "--url"];
  else if (env.MEMFARM_URL) [url, urlFrom] = [normalizeUrl(env.MEMFARM_URL, "MEMFARM_URL"), "MEMFARM_URL"];
  else if (current) [url, urlFrom] = [current.url, `profile ${profiles.current} in ${file}`];
  else [url, urlFrom] = [DEFAULT_COORDINATOR_URL, "the default"];
  const fromDataDir = (dir: string, how: string): Pick<Connection, "token" | "tokenFrom"> => {
    const tokenFile = join(dir, "admin-token");
    const token = readTokenFile(tokenFile);
    return {
      token,
      tokenFrom: token ? `${tokenFile} (${how})` : `${how}, but there is no token in ${tokenFile}`,
    };
  };
  const pick = (): Pick<Connection, "token" | "tokenFrom"> => {
    if (options.token) return { token: options.token, tokenFrom: "--token" };
    if (options.dataDir) return fromDataDir(options.dataDir, "--data-dir");
    if (env.MEMFARM_TOKEN) return { token: env.MEMFARM_TOKEN, tokenFrom: "MEMFARM_TOKEN" };
    if (env.MEMFARM_DATA_DIR) return fromDataDir(env.MEMFARM_DATA_DIR, "MEMFARM_DATA_DIR");
    const saved = profileFor(profiles, url);
    if (saved) {
      const token = readTokenFile(saved.profile.tokenFile);
      const where = `profile ${saved.name} in ${file}`;
      return token
        ? { token, tokenFrom: `${saved.profile.tokenFile} (${where})` }
        : {
            token,
            tokenFrom: `${where}, but its token file ${saved.profile.tokenFile} is missing or empty`,
          };
    }
    // The local farm's admin token goes only to a farm on this machine, never to a remote URL.
    const local = isLoopbackUrl(url)
      ? fromDataDir(defaultDataDir(env), "the default data dir")
      : { token: undefined, tokenFrom: "" };
    return local.token
      ? local
      : {
          token: undefined,
          tokenFrom: `none found: no --token, MEMFARM_TOKEN or --data-dir, no profile for ${url} (memfarm login ${url} --token TOKEN saves one)${isLoopbackUrl(url) ? `, no ${join(defaultDataDir(env), "admin-token")}` : " (this machine's own admin token is never sent to another host)"}`,
        };
  };
  return { url, urlFrom, ...pick() };
}

export function createClient(
  options: { url?: string; token?: string; dataDir?: string },
  env: NodeJS.ProcessEnv,
): ApiClient {
  return new ApiClient(resolveConnection(options, env));
}
