import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { MemfarmError } from "../../protocol/errors.ts";

/** The farm's database in its data dir. */
export const databaseFileIn = (dataDir: string) => join(dataDir, "memfarm.sqlite");

export interface BackupSummary {
  file: string;
  bytes: number;
  jobs: number;
}

/**
 * An online backup of a farm's database: SQLite's backup API copies it page by page through a
 * connection of its own, while the coordinator goes on writing (WAL), and the copy is one consistent
 * state. It goes to a temporary name and is renamed into place only once the copy has passed
 * `integrity_check`, so a cut-off backup never looks like a good one.
 */
export async function backupDatabase(databaseFile: string, target: string): Promise<BackupSummary> {
  if (!existsSync(databaseFile)) {
    throw new MemfarmError("no_database", `no farm database at ${databaseFile}: check --data-dir`);
  }
  if (existsSync(target)) {
    throw new MemfarmError("backup_exists", `${target} exists already: give a new file name`);
  }
  if (!existsSync(dirname(target))) {
    throw new MemfarmError("no_backup_dir", `the folder ${dirname(target)} does not exist`);
  }
  const partial = `${target}.partial-${randomBytes(4).toString("hex")}`;
  const source = new Database(databaseFile, { readonly: true, fileMustExist: true });
  try {
    source.pragma("busy_timeout = 5000");
    await source.backup(partial);
    // The copy says "WAL" as its source does, and opening it then leaves -wal and -shm files beside
    // it (under the temporary name, once renamed): one self-contained file is what a backup should be.
    const copy = new Database(partial, { fileMustExist: true });
    try {
      copy.pragma("journal_mode = DELETE");
    } finally {
      copy.close();
    }
    // The copy holds what the database does (token hashes, agents' NATS keys): for its owner only.
    chmodSync(partial, 0o600);
    const summary = checkDatabase(partial);
    renameSync(partial, target);
    return { ...summary, file: target };
  } finally {
    source.close();
    for (const file of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(file, { force: true });
  }
}

/**
 * Puts a backup in place of the data dir's database. The caller holds the data dir's lock (no farm
 * runs on it). The backup is checked first; the database it replaces is kept beside it as
 * `memfarm.sqlite.before-restore-TIME`, and the old write-ahead log goes with it (left beside the new
 * file, SQLite would replay it into the restored database).
 */
export function restoreDatabase(
  backupFile: string,
  dataDir: string,
): BackupSummary & { keptAs: string | null } {
  if (!existsSync(backupFile)) throw new MemfarmError("no_backup", `no backup at ${backupFile}`);
  const summary = checkDatabase(backupFile);
  const target = databaseFileIn(dataDir);
  const incoming = `${target}.restoring-${randomBytes(4).toString("hex")}`;
  const copy = new Database(backupFile, { readonly: true, fileMustExist: true });
  try {
    // VACUUM INTO writes a fresh, complete file: a plain file copy could catch the backup mid-write.
    copy.prepare("VACUUM INTO ?").run(incoming);
  } finally {
    copy.close();
  }
  let keptAs: string | null = null;
  if (existsSync(target)) {
    keptAs = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    renameSync(target, keptAs);
    for (const suffix of ["-wal", "-shm"])
      if (existsSync(`${target}${suffix}`)) renameSync(`${target}${suffix}`, `${keptAs}${suffix}`);
  }
  renameSync(incoming, target);
  return { ...summary, file: target, keptAs };
}

/** Opens a copy read-only and checks it is a whole memfarm database; says why not in words. */
function checkDatabase(file: string): Omit<BackupSummary, "file"> {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new MemfarmError("bad_backup", `${file} is not an SQLite database: ${(error as Error).message}`);
  }
  try {
    const verdict = db.pragma("integrity_check", { simple: true });
    if (verdict !== "ok") throw new MemfarmError("bad_backup", `${file} is damaged: ${String(verdict)}`);
    const hasJobs = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").get();
    if (!hasJobs)
      throw new MemfarmError("bad_backup", `${file} is an SQLite database, but not a memfarm farm's`);
    const jobs = (db.prepare("SELECT COUNT(*) AS n FROM jobs").get() as { n: number }).n;
    return { bytes: statSync(file).size, jobs };
  } catch (error) {
    if (error instanceof MemfarmError) throw error;
    throw new MemfarmError(
      "bad_backup",
      `${file} cannot be read as a farm database: ${(error as Error).message}`,
    );
  } finally {
    db.close();
  }
}
