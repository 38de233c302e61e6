import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobResource, RegressionResource } from "../../protocol/resources.ts";
import { FakeCpython, localBuildSuite } from "../helpers/fake-cpython.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";
import { until } from "../helpers/until.ts";

/**
 * A watched branch whose test's memory use is set per commit (the fake CPython's launcher exports
 * how many MiB the test holds): a commit that makes it grow past its noise opens a regression
 * naming the last good and the first bad commit, and a later commit back to normal closes it.
 */
describe("regressions found by a watch, through the whole farm", { timeout: 300_000 }, () => {
  let farm: TestFarm;
  let cpython: FakeCpython;

  /** Commits a launcher that makes the test hold `mib` MiB; returns the commit. */
  const commitHolding = (mib: number, message: string) => {
    cpython.write("python.in", `#!/bin/sh\nMEMFARM_TEST_HOLD_MIB=${mib} exec /usr/bin/python3 "$@"\n`, 0o755);
    return cpython.commit(message);
  };
  const jobFor = async (commit: string) => {
    const job = await until(
      async () => {
        const jobs = (await farm.api("/jobs?limit=50")).body.jobs as JobResource[];
        return jobs.find((one) => one.provenance.watch === "mem" && one.commit === commit);
      },
      `a job for ${commit}`,
      90_000,
    );
    return farm.waitFor(job.id, finished);
  };
  const regressions = async (state = "all") =>
    (await farm.api(`/regressions?state=${state}`)).body.regressions as RegressionResource[];

  before(async () => {
    cpython = new FakeCpython();
    const testDir = mkdtempSync(join(tmpdir(), "memfarm-regression-tests-"));
    writeFileSync(
      join(testDir, "test_hold.py"),
      [
        "import os, unittest",
        "class Hold(unittest.TestCase):",
        "    def test_hold(self):",
        "        held = b'x' * (int(os.environ.get('MEMFARM_TEST_HOLD_MIB', '0')) * 1024 * 1024)",
        "        self.assertTrue(len(held) >= 0)",
        "",
      ].join("\n"),
    );
    farm = await startFarm({
      allowLocalRepos: true,
      jobsDir: makeJobsDir({ "local-build": localBuildSuite(testDir) }),
    });
  });
  after(async () => {
    await farm?.stop();
    cpython?.remove();
  });

  it("opens a regression at the commit that grew the test's peak, with the numbers, and closes it when fixed", async () => {
    const first = commitHolding(40, "Hold 40 MiB");
    const added = await farm.api("/watches", {
      body: { name: "mem", repo: cpython.url, branch: "main", suite: "local-build", every: "1s" },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal((await jobFor(first)).status, "passed");
    const second = commitHolding(41, "Hold 41 MiB");
    assert.equal((await jobFor(second)).status, "passed");
    assert.deepEqual(await regressions(), [], "1 MiB more is noise");

    const grown = commitHolding(300, "Hold 300 MiB");
    const bad = await jobFor(grown);
    assert.equal(bad.status, "passed");
    const [opened] = await regressions("open");
    assert.ok(opened, "a regression is open");
    assert.deepEqual(
      [opened.watch, opened.test, opened.kind, opened.goodCommit, opened.badCommit, opened.badJobId],
      ["mem", "test_hold", "memory", second, grown, bad.id],
    );
    assert.ok((opened.newBytes ?? 0) - (opened.baseBytes ?? 0) > 200 * 1024 * 1024, JSON.stringify(opened));
    const listed = await (await fetch(`${farm.url}/regressions`)).text();
    assert.match(listed, new RegExp(`<tr id="regression-${opened.id}">`));

    const fixed = commitHolding(40, "Hold 40 MiB again");
    assert.equal((await jobFor(fixed)).status, "passed");
    const [closed] = await regressions("all");
    assert.equal(closed?.id, opened.id);
    assert.match(closed?.closedWhy ?? "", new RegExp(`^fixed: back within the noise at ${fixed}`));
    assert.deepEqual(await regressions("open"), []);
  });
});
