import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { PolledFile } from "../../../agent/limits/limit-files.ts";

const dir = mkdtempSync(join(tmpdir(), "memfarm-polled-file-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("a control file polled through a kept-open descriptor", () => {
  it("reads what the file holds now, each time, and nothing left of a longer earlier text", () => {
    const path = join(dir, "memory.oom_control");
    writeFileSync(path, "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
    const file = new PolledFile(path);
    assert.equal(file.read(), "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
    writeFileSync(path, "oom_kill 1\n");
    assert.equal(file.read(), "oom_kill 1\n");
    file.close();
  });

  it("reads null while the file is gone, and opens it again once it is back", () => {
    const path = join(dir, "memory.events");
    const file = new PolledFile(path);
    assert.equal(file.read(), null);
    writeFileSync(path, "oom_group_kill 1\n");
    assert.equal(file.read(), "oom_group_kill 1\n");
    file.close();
    file.close(); // twice is harmless: dispose closes it before the group's rmdir
  });
});
