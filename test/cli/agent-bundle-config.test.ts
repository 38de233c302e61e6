import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { agentConfigText, agentLayout } from "../../coordinator/hosts/agent-layout.ts";
import { PACKAGE_ROOT } from "../../coordinator/paths.ts";

const BUNDLE = join(PACKAGE_ROOT, "dist", "agent-bundle", "memfarm-agent.cjs");

function runBundle(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BUNDLE, ...args], { timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stderr });
    });
  });
}

/**
 * The uploaded agent's --config: the agent.json `memfarm hosts add` writes (its format unchanged),
 * or a settings file. Each run stops at the credentials file, which does not exist, and so shows
 * which file's values it took.
 */
describe("the agent bundle's --config", () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-bundle-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("still reads the agent.json the provisioner writes", async () => {
    const layout = agentLayout(dir, "0.1.0");
    mkdirSync(layout.root, { recursive: true });
    const file = join(dir, "agent.json");
    writeFileSync(
      file,
      agentConfigText(layout, { name: "arm1", labels: {}, nats: ["nats://127.0.0.1:1"], options: {} }),
    );
    const run = await runBundle(["--config", file]);
    assert.notEqual(run.code, 0);
    assert.match(
      run.stderr,
      new RegExp(`cannot read the NATS credentials file ${layout.creds} \\(ENOENT\\)`),
    );
  });

  it("reads a settings file, TOML or JSON with sections, through the same table as memfarm agent", async () => {
    const toml = join(dir, "memfarm.toml");
    writeFileSync(toml, '[agent]\nnats = "nats://127.0.0.1:1"\ncreds = "from-toml.nk"\n');
    const fromToml = await runBundle(["--config", toml]);
    assert.match(
      fromToml.stderr,
      new RegExp(`cannot read the NATS credentials file ${join(dir, "from-toml.nk")}`),
    );
    const json = join(dir, "settings.json");
    writeFileSync(json, JSON.stringify({ agent: { nats: "nats://127.0.0.1:1", creds: "from-json.nk" } }));
    const fromJson = await runBundle(["--config", json]);
    assert.match(
      fromJson.stderr,
      new RegExp(`cannot read the NATS credentials file ${join(dir, "from-json.nk")}`),
    );
    writeFileSync(json, JSON.stringify({ agent: { nats: "nats://127.0.0.1:1", credz: "x.nk" } }));
    const typo = await runBundle(["--config", json]);
    assert.match(typo.stderr, /settings\.json: agent\.credz is not a known key; did you mean agent\.creds\?/);
  });
});
