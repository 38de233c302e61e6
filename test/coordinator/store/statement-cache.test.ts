import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Db, openDatabase } from "../../../coordinator/store/database.ts";
import { cachedPrepare } from "../../../coordinator/store/statement-cache.ts";

describe("statements compiled once per SQL text (a real SQLite file)", () => {
  let dir: string;
  let db: Db;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "memfarm-statements-"));
    db = openDatabase(join(dir, "memfarm.sqlite"));
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives the same statement for the same text, and another for another text", () => {
    const sql = cachedPrepare(db);
    const count = "SELECT COUNT(*) AS n FROM notes";
    assert.equal(sql(count), sql(count));
    assert.notEqual(sql(count), sql("SELECT text FROM notes"));
    // Each store has its own cache: the same text there is compiled again, for that store.
    assert.notEqual(cachedPrepare(db)(count), sql(count));
  });

  it("a statement compiled earlier reads what was written since, and its writes roll back with a transaction", () => {
    const sql = cachedPrepare(db);
    const count = () => sql<[], { n: number }>("SELECT COUNT(*) AS n FROM notes").get()?.n;
    const insert = (text: string) => sql("INSERT INTO notes (text) VALUES (?)").run(text);
    const before = count() ?? 0;
    insert("one");
    assert.equal(count(), before + 1);
    assert.throws(
      () =>
        db.transaction(() => {
          insert("two");
          throw new Error("given up");
        })(),
      /given up/,
    );
    assert.equal(count(), before + 1, "the rolled-back insert is gone");
    insert("three");
    assert.deepEqual(
      sql<[], { text: string }>("SELECT text FROM notes ORDER BY id")
        .all()
        .map((row) => row.text),
      ["one", "three"],
    );
  });
});
