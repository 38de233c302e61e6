import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TokensStore } from "../store/tokens-store.ts";

export const ADMIN_TOKEN_FILE = "admin-token";
/** The owner of the farm's own token; only it manages other tokens. */
export const ADMIN_OWNER = "admin";

/**
 * The admin API token of this farm, kept in DATA_DIR/admin-token (mode 0600)
 * so the CLI on this machine can use it. A file whose token the store no
 * longer knows is replaced.
 */
export async function ensureAdminToken(dataDir: string, tokens: TokensStore): Promise<string> {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  const existing = await readFile(file, "utf8").then(
    (text) => text.trim(),
    () => null,
  );
  if (existing && tokens.isValid(existing)) return existing;
  const token = tokens.create(ADMIN_OWNER);
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return token;
}
