import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { processExists } from "../../agent/processes/process-tree.ts";
import { CliProcess, processesMentioning, runCli } from "../helpers/cli.ts";

/** `memfarm up` killed outright (SIGKILL: no chance to stop its nats-server) and started again. */
describe("chaos: a whole farm on one machine, killed and started again", { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-up-kill-"));
  const dataDir = join(dir, "data");
  const up = () => new CliProcess(["up", "--port", "0", "--data-dir", dataDir, "--memory", "4G"]);
  after(() => {
    for (const pid of processesMentioning(dir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("stops the nats-server the killed farm left behind, and comes back with its agent", async () => {
    const first = up();
    await first.waitFor(/memfarm is running/);
    const natsPid = Number(readFileSync(join(dataDir, "nats", "nats-server.pid"), "utf8"));
    await first.stop("SIGKILL");
    assert.ok(processExists(natsPid), "the killed farm's nats-server lives on in its own process group");

    const second = up();
    try {
      const [, url] = await second.waitFor(/Dashboard:\s+(http:\/\/\S+?)\/\n/);
      assert.equal(processExists(natsPid), false, "the new farm stopped the old nats-server");
      const env = { MEMFARM_URL: url, MEMFARM_DATA_DIR: dataDir };
      const hosts = JSON.parse((await runCli(["hosts", "--json"], env)).stdout) as {
        agents: { state: string }[];
      };
      assert.deepEqual(
        hosts.agents.map((agent) => agent.state),
        ["online"],
      );
    } finally {
      assert.equal(await second.stop("SIGINT"), 0);
    }
  });
});
