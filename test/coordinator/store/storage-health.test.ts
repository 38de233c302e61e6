import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { storageProblem } from "../../../coordinator/store/storage-health.ts";

describe("storage errors", () => {
  it("tell a full disk, a read-only database and an I/O error from other errors, in words", () => {
    const error = (code: string) => Object.assign(new Error(code), { code });
    assert.equal(storageProblem(error("SQLITE_FULL")), "its disk is full");
    assert.equal(storageProblem(error("ENOSPC")), "its disk is full");
    assert.equal(storageProblem(error("SQLITE_READONLY")), "its database is read-only");
    assert.equal(storageProblem(error("SQLITE_READONLY_DBMOVED")), "its database is read-only");
    assert.equal(storageProblem(error("EROFS")), "its database is read-only");
    assert.equal(storageProblem(error("SQLITE_IOERR_WRITE")), "its disk fails to read or write");
    assert.equal(storageProblem(error("SQLITE_CONSTRAINT_UNIQUE")), null);
    assert.equal(storageProblem(new Error("no code")), null);
    assert.equal(storageProblem(null), null);
  });
});
