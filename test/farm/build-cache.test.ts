import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FakeCpython, localBuildSuite } from "../helpers/fake-cpython.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";

/** An agent with `--build-cache-size 1`: every finished build is over the quota once no job uses it. */
describe("an agent's build cache quota, through the whole farm", () => {
  let farm: TestFarm;
  let cpython: FakeCpython;
  let testDir: string;
  let workDir: string;
  before(async () => {
    cpython = new FakeCpython();
    testDir = mkdtempSync(join(tmpdir(), "memfarm-build-cache-tests-"));
    writeFileSync(
      join(testDir, "test_fine.py"),
      "import unittest\nclass T(unittest.TestCase):\n    def test_ok(self): pass\n",
    );
    workDir = mkdtempSync(join(tmpdir(), "memfarm-build-cache-agent-"));
    farm = await startFarm({
      allowLocalRepos: true,
      buildCacheSize: "1",
      agentWorkDir: workDir,
      jobsDir: makeJobsDir({ "local-build": localBuildSuite(testDir) }),
    });
  });
  after(async () => {
    await farm?.stop();
    cpython?.remove();
    if (testDir) rmSync(testDir, { recursive: true, force: true });
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("removes the build of an ended job when the next job builds another commit", async () => {
    const builds = () => readdirSync(join(workDir, "builds")).map((name) => name.split("-")[0]);
    const first = await farm.waitFor(
      (await farm.submit({ suite: "local-build", ref: "main", repo: cpython.url })).id,
      finished,
    );
    assert.equal(first.status, "passed", first.error ?? "");
    assert.deepEqual(builds(), [first.commit], "its own build stayed while it ran");

    cpython.write("NEWS", "a change, so the next job builds another commit\n");
    cpython.commit("Another commit");
    const second = await farm.waitFor(
      (await farm.submit({ suite: "local-build", ref: "main", repo: cpython.url })).id,
      finished,
    );
    assert.equal(second.status, "passed", second.error ?? "");
    assert.notEqual(second.commit, first.commit);
    assert.deepEqual(builds(), [second.commit]);
    const log = (await farm.api(`/jobs/${second.id}/log?format=text`)).body as string;
    assert.match(log, new RegExp(`removed the build .*${first.commit}-\\w+ \\(.*, least recently used\\)`));
  });
});
