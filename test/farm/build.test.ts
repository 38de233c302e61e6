import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FakeCpython, localBuildSuite } from "../helpers/fake-cpython.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";

/**
 * Jobs that name a git ref: the agent fetches it into its mirror, builds it
 * (a fake CPython whose configure and make produce a python launcher in
 * seconds), records the exact commit, and reuses the build for the same commit.
 */
describe("jobs built from a git ref, through the whole farm", () => {
  let farm: TestFarm;
  let cpython: FakeCpython;
  before(async () => {
    cpython = new FakeCpython();
    const testDir = mkdtempSync(join(tmpdir(), "memfarm-build-tests-"));
    writeFileSync(
      join(testDir, "test_fine.py"),
      "import unittest\nclass T(unittest.TestCase):\n    def test_ok(self): pass\n",
    );
    farm = await startFarm({
      allowLocalRepos: true,
      jobsDir: makeJobsDir({
        "local-build": localBuildSuite(testDir),
      }),
    });
  });
  after(async () => {
    await farm?.stop();
    cpython?.remove();
  });

  it("fetches, builds and runs the exact commit, and reuses the build for the next job", async () => {
    const first = await farm.waitFor(
      (await farm.submit({ suite: "local-build", ref: "main", repo: cpython.url })).id,
      finished,
    );
    assert.equal(first.status, "passed", first.error ?? "");
    assert.equal(first.commit, cpython.revParse("main"));
    assert.equal(first.ref, "main");
    const log = (await farm.api(`/jobs/${first.id}/log?format=text`)).body as string;
    assert.match(log, /configure/);
    assert.match(log, /built of [0-9a-f]{40}/);
    const makesAfterFirst = cpython.makeCount();
    const second = await farm.waitFor(
      (await farm.submit({ suite: "local-build", ref: "main", repo: cpython.url })).id,
      finished,
    );
    assert.equal(second.status, "passed");
    assert.equal(cpython.makeCount(), makesAfterFirst, "the second job did not run make");
    assert.match((await farm.api(`/jobs/${second.id}/log?format=text`)).body as string, /reusing the build/);
  });

  it("ends as error with the reason and the log tail when the build fails", async () => {
    cpython.write("NEWS", "a change, so the commit is not built yet\n");
    cpython.commit("Another commit");
    cpython.breakConfigure(true);
    try {
      const job = await farm.waitFor(
        (await farm.submit({ suite: "local-build", ref: "main", repo: cpython.url })).id,
        finished,
      );
      assert.equal(job.status, "error");
      assert.match(job.error ?? "", /configure failed/);
      assert.match(job.error ?? "", /last \d+ lines? of its output/);
    } finally {
      cpython.breakConfigure(false);
    }
  });

  it("refuses refs and repositories git could misread, before anything runs", async () => {
    for (const ref of ["--upload-pack=touch /tmp/pwned", "main;id", "a b", "$(id)"]) {
      const response = await farm.api("/jobs", { body: { suite: "local-build", ref, repo: cpython.url } });
      assert.equal(response.status, 400, ref);
      assert.equal(response.body.error.field, "ref");
    }
    const repo = await farm.api("/jobs", {
      body: { suite: "local-build", ref: "main", repo: "ext::sh -c touch% /tmp/pwned" },
    });
    assert.equal(repo.status, 400);
    assert.equal(repo.body.error.field, "repo");
    const both = await farm.api("/jobs", {
      body: { suite: "local-build", ref: "main", python: "/usr/bin/python3" },
    });
    assert.equal(both.status, 400);
  });
});
