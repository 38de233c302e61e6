import type Database from "better-sqlite3";
import type { Db } from "./database.ts";

/**
 * `db.prepare`, compiled once per SQL text. Preparing costs more than running most of the store's
 * statements (a scheduling pass and each report would compile theirs again every time), and it
 * blocks the coordinator's one thread. Only for fixed SQL texts (a bounded set), and not for
 * statements set to raw or pluck: the cached statement is shared by every caller of that text.
 */
export function cachedPrepare(db: Db): Db["prepare"] {
  const statements = new Map<string, Database.Statement>();
  return ((source: string) => {
    let statement = statements.get(source);
    if (statement === undefined) {
      statement = db.prepare(source);
      statements.set(source, statement);
    }
    return statement;
  }) as Db["prepare"];
}
