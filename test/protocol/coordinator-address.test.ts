import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createClient } from "../../cli/context.ts";
import { COMMAND_HELP, MAIN_HELP } from "../../cli/help.ts";
import { compileCoordinatorConfig } from "../../coordinator/config.ts";
import { PACKAGE_ROOT } from "../../coordinator/paths.ts";
import {
  DEFAULT_COORDINATOR_URL,
  DEFAULT_HTTP_HOST,
  DEFAULT_HTTP_PORT,
} from "../../protocol/coordinator-address.ts";

describe("the coordinator's default address", () => {
  it("is where a coordinator listens and where the CLI looks, unless told otherwise", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "memfarm-address-"));
    try {
      const config = compileCoordinatorConfig({ dataDir }, {});
      assert.equal(`http://${config.host}:${config.port}`, DEFAULT_COORDINATOR_URL);
      assert.equal(createClient({ token: "t", dataDir }, {}).baseUrl, DEFAULT_COORDINATOR_URL);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("is the one the README, docs/cli.md and --help document", () => {
    const readme = readFileSync(join(PACKAGE_ROOT, "README.md"), "utf8");
    const cliDoc = readFileSync(join(PACKAGE_ROOT, "docs", "cli.md"), "utf8");
    assert.ok(cliDoc.includes(`default \`${DEFAULT_COORDINATOR_URL}\``), "docs/cli.md: --url default");
    assert.ok(
      cliDoc.includes(`memfarm up [--config FILE] [--port ${DEFAULT_HTTP_PORT}]`),
      "docs/cli.md: memfarm up --port",
    );
    assert.ok(readme.includes(`${DEFAULT_COORDINATOR_URL}/`), "README: the dashboard's address");
    assert.ok(MAIN_HELP.includes(`default ${DEFAULT_COORDINATOR_URL}`));
    for (const command of ["up", "coordinator"]) {
      assert.ok(
        COMMAND_HELP[command]?.includes(`[--port ${DEFAULT_HTTP_PORT}] [--host ${DEFAULT_HTTP_HOST}]`),
      );
    }
  });
});
