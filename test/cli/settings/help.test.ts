import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { COMMAND_HELP } from "../../../cli/help.ts";
import { flagOptions } from "../../../cli/settings/resolve.ts";
import type { Daemon } from "../../../cli/settings/settings.ts";
import { PACKAGE_ROOT } from "../../../coordinator/paths.ts";

describe("each daemon's --help and docs/cli.md", () => {
  const cliDoc = readFileSync(join(PACKAGE_ROOT, "docs", "cli.md"), "utf8");
  for (const daemon of ["up", "coordinator", "agent"] as const satisfies readonly Daemon[]) {
    it(`names every flag memfarm ${daemon} takes`, () => {
      const help = COMMAND_HELP[daemon] ?? "";
      const usage = cliDoc.slice(cliDoc.indexOf(`memfarm ${daemon} `));
      const flags = Object.keys(flagOptions(daemon)).map((flag) => `--${flag}`);
      assert.deepEqual(
        flags.filter((flag) => !help.includes(`[${flag}`) && !help.startsWith(`memfarm ${daemon} ${flag}`)),
        [],
      );
      assert.deepEqual(
        flags.filter((flag) => !usage.slice(0, usage.indexOf("\nmemfarm ")).includes(flag)),
        [],
        "docs/cli.md's usage lines",
      );
    });
  }
});
