import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse as parseToml } from "smol-toml";
import { FILE_KEYS, readConfigFile } from "../../../cli/settings/config-file.ts";
import { PACKAGE_ROOT } from "../../../coordinator/paths.ts";
import { agentFrom, configDir, coordinatorFrom } from "./settings-helpers.ts";

const EXAMPLE = join(PACKAGE_ROOT, "deploy", "memfarm.example.toml");
const DOC = join(PACKAGE_ROOT, "docs", "operations", "config-file.md");

/** The example's keys, set or commented out (`# natsCreds = ...`), by section: coordinator.port, ... */
function exampleKeys(text: string): { key: string; line: string; commented: boolean }[] {
  let section = "";
  const keys: { key: string; line: string; commented: boolean }[] = [];
  for (const line of text.split("\n")) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) section = header[1] ?? "";
    const entry = /^(#\s*)?(\w+)\s*=\s*\S/.exec(line);
    if (entry && section !== "")
      keys.push({ key: `${section}.${entry[2]}`, line, commented: entry[1] !== undefined });
  }
  return keys;
}

describe("deploy/memfarm.example.toml", () => {
  const text = readFileSync(EXAMPLE, "utf8");
  const { dir, write } = configDir();

  it("shows every key, and only known ones", () => {
    const shown = exampleKeys(text).map(({ key }) => key);
    assert.deepEqual(
      [...FILE_KEYS.keys()].filter((key) => !shown.includes(key)),
      [],
      "missing from the example",
    );
    assert.deepEqual(
      shown.filter((key) => !FILE_KEYS.has(key)),
      [],
      "in the example but unknown",
    );
  });

  it("loads and compiles for the coordinator and the agent, with its secrets in files beside it", () => {
    const copy = join(dir, "memfarm.toml");
    copyFileSync(EXAMPLE, copy);
    write("github-webhook-secret", "an-example-webhook-secret\n");
    write("github-token", "github_pat_example\n");
    const coordinator = coordinatorFrom({ config: copy });
    assert.equal(coordinator.port, 8080);
    assert.equal(coordinator.dataDir, "/var/lib/memfarm");
    assert.equal(coordinator.lostAfterMs, 8000);
    assert.equal(coordinator.github?.webhookSecret, "an-example-webhook-secret");
    assert.deepEqual([...(coordinator.github?.repos ?? [])], ["python/cpython"]);
    const agent = agentFrom({ config: copy });
    assert.equal(agent.name, "arm1");
    assert.equal(agent.credsFile, join(dir, "arm1.nk"));
    assert.deepEqual(agent.labels, { pool: "bigmem", rack: "b" });
    assert.equal(agent.blackouts.length, 1);
    assert.equal(agent.drainTimeoutMs, 600_000);
  });

  it("means the same written as JSON", () => {
    write("github-webhook-secret", "an-example-webhook-secret\n");
    write("github-token", "github_pat_example\n");
    const toml = join(dir, "same.toml");
    copyFileSync(EXAMPLE, toml);
    const json = write("same.json", JSON.stringify(parseToml(text)));
    assert.deepEqual(coordinatorFrom({ config: json }), coordinatorFrom({ config: toml }));
    assert.deepEqual(agentFrom({ config: json }), agentFrom({ config: toml }));
  });

  it("gives a value of the right kind on each commented-out line", () => {
    for (const { key, line, commented } of exampleKeys(text)) {
      if (!commented) continue;
      const uncommented = line.replace(/^#\s*/, "").replace(/\s+#.*$/, "");
      const section = key.slice(0, key.indexOf("."));
      const file = join(dir, `one-${key}.toml`);
      writeFileSync(file, `[${section}]\n${uncommented}\n`);
      assert.doesNotThrow(() => readConfigFile(file), `${key}: ${uncommented}`);
    }
  });
});

describe("docs/operations/config-file.md", () => {
  it("documents every key", () => {
    const doc = readFileSync(DOC, "utf8");
    assert.deepEqual(
      [...FILE_KEYS.keys()].filter((key) => !doc.includes(`\`${key}\``)),
      [],
      "add these to the doc's table",
    );
  });
});
