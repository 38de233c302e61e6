import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS_DIR } from "../paths.ts";

export type Db = Database.Database;

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

/**
 * Opens the coordinator's SQLite file in WAL mode and applies the numbered
 * migrations it has not applied yet, each in its own transaction, recorded in
 * the `schema_migrations` ledger. Branches merge in any order, so a lower
 * number can arrive after a higher one: it is applied then. `PRAGMA
 * user_version` still holds the highest number applied.
 */
export function openDatabase(file: string, migrationsDir = MIGRATIONS_DIR): Db {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db, migrationsDir);
  return db;
}

function migrationFiles(migrationsDir: string): { version: number; name: string }[] {
  return readdirSync(migrationsDir)
    .filter((name) => MIGRATION_FILE.test(name))
    .sort()
    .map((name) => ({ version: Number(name.slice(0, 4)), name }));
}

/** The versions applied, from the ledger; a database from before the ledger gets one first. */
function appliedVersions(db: Db, files: { version: number }[]): Set<number> {
  const hasLedger = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (!hasLedger) {
    const highWater = db.pragma("user_version", { simple: true }) as number;
    db.transaction(() => {
      db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
      const record = db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
      for (const { version } of files) {
        // The old ledger (`PRAGMA user_version`) was a high-water mark over contiguous numbers.
        if (version <= highWater) record.run(version, new Date().toISOString());
      }
    })();
  }
  const rows = db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[];
  return new Set(rows.map((row) => row.version));
}

export function migrate(db: Db, migrationsDir: string): void {
  const files = migrationFiles(migrationsDir);
  const applied = appliedVersions(db, files);
  const record = db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
  for (const { version, name } of files) {
    if (applied.has(version)) continue;
    const sql = readFileSync(join(migrationsDir, name), "utf8");
    db.transaction(() => {
      db.exec(sql);
      record.run(version, new Date().toISOString());
      const highest = Math.max(version, db.pragma("user_version", { simple: true }) as number);
      db.pragma(`user_version = ${highest}`);
    })();
  }
}
