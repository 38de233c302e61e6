import { resolve } from "node:path";
import { DataDirLock } from "../../coordinator/data-dir-lock.ts";
import { backupDatabase, databaseFileIn, restoreDatabase } from "../../coordinator/store/backup.ts";
import { defaultDataDir } from "../../protocol/coordinator-address.ts";
import { MemfarmError } from "../../protocol/errors.ts";
import { silentLogger } from "../../protocol/logger.ts";
import { formatBytes } from "../../protocol/sizes.ts";
import { CliError } from "../client.ts";
import type { CommandContext } from "../context.ts";
import { ExitCode } from "../exit-codes.ts";
import { parseCommand } from "../parse.ts";

const OPTIONS = {
  "data-dir": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function fileAndDataDir(
  command: string,
  context: CommandContext,
): { file: string; dataDir: string; json: boolean } {
  const { values, positionals } = parseCommand(command, context.args, OPTIONS);
  if (positionals.length !== 1) {
    throw new CliError(`memfarm ${command} takes one FILE\nSee "memfarm ${command} --help".`, ExitCode.usage);
  }
  const dataDir = resolve(values["data-dir"] ?? context.env.MEMFARM_DATA_DIR ?? defaultDataDir(context.env));
  return { file: resolve(positionals[0] as string), dataDir, json: values.json === true };
}

/** `memfarm backup FILE`: an online copy of the farm's database, safe while the farm runs. */
export async function backupCommand(context: CommandContext): Promise<number> {
  const { file, dataDir, json } = fileAndDataDir("backup", context);
  const summary = await inWords(() => backupDatabase(databaseFileIn(dataDir), file));
  context.stdout(
    json
      ? `${JSON.stringify(summary)}\n`
      : `backed up ${databaseFileIn(dataDir)} to ${summary.file} (${formatBytes(summary.bytes)}, ${summary.jobs} jobs)\n`,
  );
  return ExitCode.ok;
}

/** `memfarm restore FILE`: puts a backup in place, refusing while a farm runs on the data dir. */
export async function restoreCommand(context: CommandContext): Promise<number> {
  const { file, dataDir, json } = fileAndDataDir("restore", context);
  // Held while the files move, so no farm starts on them halfway; a running farm makes this refuse.
  const lock = await inWords(async () => DataDirLock.acquire(dataDir, silentLogger));
  try {
    const summary = await inWords(async () => restoreDatabase(file, dataDir));
    context.stdout(
      json
        ? `${JSON.stringify(summary)}\n`
        : `restored ${file} into ${summary.file} (${summary.jobs} jobs)${summary.keptAs ? `; the database it replaced is kept as ${summary.keptAs}` : ""}\n`,
    );
    return ExitCode.ok;
  } finally {
    lock.release();
  }
}

/** The farm's refusals (a running farm, a damaged file) are the user's to act on: exit 6 with the words, no stack. */
async function inWords<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof MemfarmError) throw new CliError(`memfarm: ${error.message}`, ExitCode.error);
    throw error;
  }
}
