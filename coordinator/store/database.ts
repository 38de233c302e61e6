import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS_DIR } from "../paths.ts";

export type Db = Database.Database;

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

/**
 * Opens the coordinator's SQLite file in WAL mode and applies the numbered
 * migrations it has not seen yet, each in its own transaction, tracked in
 * `PRAGMA user_version`.
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

export function migrate(db: Db, migrationsDir: string): void {
  const applied = db.pragma("user_version", { simple: true }) as number;
  const files = readdirSync(migrationsDir)
    .filter((name) => MIGRATION_FILE.test(name))
    .sort();
  for (const name of files) {
    const version = Number(name.slice(0, 4));
    if (version <= applied) continue;
    const sql = readFileSync(join(migrationsDir, name), "utf8");
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
