import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { PACKAGE_ROOT } from "../../coordinator/paths.ts";

/**
 * Rules of the layout that a compiler cannot check: where a state change may be announced and
 * where a NATS request may be served. Each reads the TypeScript sources, so a new file that
 * breaks a rule fails here with its name.
 */
function sourcesUnder(...folders: string[]): { file: string; text: string }[] {
  const files: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) {
        files.push({ file: relative(PACKAGE_ROOT, path), text: readFileSync(path, "utf8") });
      }
    }
  };
  for (const folder of folders) walk(join(PACKAGE_ROOT, folder));
  return files;
}

const PRODUCT = ["coordinator", "agent", "protocol", "cli"];

describe("the house rules", () => {
  it("emits farm events (job, log, samples) only in coordinator/attempts/", () => {
    const sources = sourcesUnder(...PRODUCT);
    assert.ok(sources.length > 50, `only ${sources.length} source files found`);
    const offenders = sources
      .filter(({ file }) => !file.startsWith("coordinator/attempts/"))
      .filter(({ text }) => /\.emit\(\s*["'](job|log|samples)["']/.test(text))
      .map(({ file }) => file);
    assert.deepEqual(offenders, [], "announce a state change through coordinator/attempts/transitions.ts");
  });

  it("changes a job's state only in coordinator/attempts/ (the store's guarded UPDATEs behind it)", () => {
    const offenders = sourcesUnder("coordinator")
      .filter(
        ({ file }) => !file.startsWith("coordinator/attempts/") && !file.startsWith("coordinator/store/"),
      )
      .filter(({ text }) => /\.jobStates\b/.test(text))
      .map(({ file }) => file);
    assert.deepEqual(offenders, [], "change a job's state through coordinator/attempts/transitions.ts");
  });

  it("serves NATS requests only through protocol/nats-endpoint.ts", () => {
    const offenders = sourcesUnder(...PRODUCT)
      .filter(({ file }) => file !== "protocol/nats-endpoint.ts")
      .filter(({ text }) => /\bnc\.subscribe\(|\.subscribe\(\s*Subjects\./.test(text))
      .map(({ file }) => file);
    assert.deepEqual(offenders, [], "serve an endpoint with serveEndpoint (protocol/nats-endpoint.ts)");
  });

  it("keeps SQL in coordinator/store/", () => {
    const offenders = sourcesUnder("coordinator")
      .filter(({ file }) => !file.startsWith("coordinator/store/"))
      .filter(({ text }) => /\.prepare\(|\b(SELECT|UPDATE|INSERT INTO|DELETE FROM)\s+[a-z_]+/.test(text))
      .map(({ file }) => file);
    assert.deepEqual(offenders, [], "put the query in a store module");
  });
});
