import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CliProcess, readyRecord, runCli } from "../helpers/cli.ts";

describe("the daemons' --log-format and --log-level", () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-log-options-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes JSON lines with --log-format json, the flag winning over the environment", async () => {
    const coordinator = new CliProcess(
      ["coordinator", "--port", "0", "--data-dir", join(dir, "farm"), "--log-format", "json"],
      { MEMFARM_LOG_FORMAT: "text", MEMFARM_LOG_LEVEL: "" },
    );
    try {
      const ready = await readyRecord(coordinator);
      assert.equal(ready?.level, "info");
      assert.match(String(ready?.http), /^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      assert.equal(await coordinator.stop(), 0);
    }
  });

  it("refuses a format or level it does not know, naming the choices", async () => {
    const format = await runCli(["coordinator", "--data-dir", join(dir, "other"), "--log-format", "yaml"]);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--log-format must be one of text, json, not "yaml"/);
    const level = await runCli(["agent", "--nats", "nats://127.0.0.1:1", "--log-level", "loud"]);
    assert.equal(level.code, 2);
    assert.match(level.stderr, /--log-level must be one of debug, info, warn, error, not "loud"/);
  });
});
