import { homedir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Where a coordinator serves its API and dashboard unless --host and --port say
 * otherwise, and so where the CLI looks for one unless --url or MEMFARM_URL
 * say otherwise. The README documents these values.
 */
export const DEFAULT_HTTP_HOST = "127.0.0.1";
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_COORDINATOR_URL = `http://${DEFAULT_HTTP_HOST}:${DEFAULT_HTTP_PORT}`;

/** Where a farm keeps its data unless told otherwise; the CLI looks here for the admin token. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  if (env.MEMFARM_DATA_DIR) return resolve(env.MEMFARM_DATA_DIR);
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "memfarm");
}
