import { defaultDataDir } from "../coordinator/config.ts";
import { DEFAULT_COORDINATOR_URL } from "../protocol/coordinator-address.ts";
import { ApiClient, resolveToken } from "./client.ts";

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

/** Global options: --url / MEMFARM_URL, --token / MEMFARM_TOKEN, --data-dir / MEMFARM_DATA_DIR (for the local token). */
export function createClient(
  options: { url?: string; token?: string; dataDir?: string },
  env: NodeJS.ProcessEnv,
): ApiClient {
  const url = options.url ?? env.MEMFARM_URL ?? DEFAULT_COORDINATOR_URL;
  const dataDir = options.dataDir ?? defaultDataDir(env);
  return new ApiClient({ url, token: resolveToken(options.token, env, dataDir) });
}
