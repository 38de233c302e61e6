import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CliProcess, readyRecord, runCli } from "../helpers/cli.ts";

/** Variables of whoever runs the tests that would stand before the file. */
const CLEAN_ENV = {
  MEMFARM_PORT: "",
  MEMFARM_DATA_DIR: "",
  MEMFARM_LOG_FORMAT: "",
  MEMFARM_LOG_LEVEL: "",
  MEMFARM_CONFIG: "",
};

describe("the daemons' --config FILE", () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-config-option-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("starts a coordinator with the file's settings: its data dir beside the file, JSON logs", async () => {
    const file = join(dir, "memfarm.toml");
    writeFileSync(file, '[coordinator]\nport = 0\ndataDir = "farm"\n\n[log]\nformat = "json"\n');
    const coordinator = new CliProcess(["coordinator", "--config", file], CLEAN_ENV);
    try {
      const ready = await readyRecord(coordinator);
      assert.match(String(ready?.http), /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.doesNotMatch(String(ready?.http), /:8080$/, "port 0 from the file: a free port");
      assert.ok(existsSync(join(dir, "farm", "admin-token")), "the data dir is relative to the file");
      assert.match(coordinator.output, new RegExp(`Admin token in ${join(dir, "farm", "admin-token")}`));
    } finally {
      assert.equal(await coordinator.stop(), 0);
    }
  });

  it("refuses to start on a file it cannot use, naming the file and the key", async () => {
    const typo = join(dir, "typo.json");
    writeFileSync(typo, JSON.stringify({ coordinator: { prot: 8080 } }));
    const coordinator = await runCli(["coordinator", "--config", typo], CLEAN_ENV);
    assert.equal(coordinator.code, 2);
    assert.match(
      coordinator.stderr,
      /typo\.json: coordinator\.prot is not a known key; did you mean coordinator\.port\?/,
    );
    const bad = join(dir, "bad.toml");
    writeFileSync(bad, '[agent]\nnats = "nats://127.0.0.1:1"\ndrainTimeout = "forever"\n');
    const agent = await runCli(["agent", "--config", bad], CLEAN_ENV);
    assert.equal(agent.code, 2);
    assert.match(agent.stderr, /bad\.toml: agent\.drainTimeout: "forever" is not a duration/);
    const yaml = await runCli(["up", "--config", join(dir, "memfarm.yaml")], CLEAN_ENV);
    assert.equal(yaml.code, 2);
    assert.match(yaml.stderr, /known formats: \.json \(JSON\), \.toml \(TOML\)/);
  });
});
