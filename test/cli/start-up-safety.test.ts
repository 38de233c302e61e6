import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ExitCode } from "../../cli/exit-codes.ts";
import { processesMentioning, runCli } from "../helpers/cli.ts";

describe("memfarm up on a taken HTTP port", () => {
  let taken: Server;
  let port: number;
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "memfarm-taken-port-"));
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const address = taken.address();
    port = typeof address === "object" && address ? address.port : 0;
  });
  after(() => {
    taken.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("fails at once with the message, the error exit code and no child left", async () => {
    const run = await runCli(["up", "--port", String(port), "--data-dir", dataDir], {}, 30_000);
    assert.equal(run.code, ExitCode.error, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use; pick another with --port`),
    );
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.deepEqual(processesMentioning(dataDir), []);
  });
});
