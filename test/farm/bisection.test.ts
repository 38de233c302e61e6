import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { roundBound } from "../../coordinator/watches/bisection-plan.ts";
import type { JobResource, RegressionResource } from "../../protocol/resources.ts";
import { BisectionFixture } from "../helpers/bisection-fixture.ts";
import { localBuildSuite } from "../helpers/fake-cpython.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";
import { until } from "../helpers/until.ts";

/**
 * Automatic bisection through the whole farm (coordinator, NATS, a real agent building the fake
 * CPython): a watch sees a branch jump 63 commits, one of which grew test_hold's peak from 40 to
 * 300 MiB and one of which does not build; the farm names the culprit on its own, skipping the
 * broken commit, within ceil(log2(63)) + 2 rounds. A test that failed once (flaky) is not blamed.
 */
describe("automatic bisection of a watch's regression", { timeout: 900_000 }, () => {
  const SIZE = 63;
  const CULPRIT = 40;
  // The first commit a one-probe bisection of 63 commits tries: it must be skipped, not judged.
  const BROKEN = 31;
  let farm: TestFarm;
  let fixture: BisectionFixture;

  const watchJob = async (commit: string) => {
    const job = await until(
      async () => {
        const jobs = (await farm.api("/jobs?limit=100")).body.jobs as JobResource[];
        return jobs.find((one) => one.provenance.watch === "bis" && one.commit === commit);
      },
      `the watch's job for ${commit}`,
      120_000,
    );
    return farm.waitFor(job.id, finished);
  };
  const regressionOf = async (test: string, commit: string) =>
    until(
      async () => {
        const { regressions } = (await farm.api("/regressions?state=all")).body as {
          regressions: RegressionResource[];
        };
        return regressions.find((one) => one.test === test && one.badCommit === commit);
      },
      `a regression of ${test} at ${commit}`,
      60_000,
    );
  const bisectionEnd = (id: number) =>
    until(
      async () => {
        const regression = (await farm.api(`/regressions/${id}`)).body as RegressionResource;
        return regression.bisection && regression.bisection.state !== "running" ? regression : undefined;
      },
      `the end of regression ${id}'s bisection`,
      600_000,
    );

  before(async () => {
    fixture = new BisectionFixture({ size: SIZE, culprit: CULPRIT, broken: BROKEN });
    fixture.cpython.git("branch", "--force", "watched", fixture.first.sha);
    farm = await startFarm({
      allowLocalRepos: true,
      jobsDir: makeJobsDir({ "local-build": localBuildSuite(fixture.testDir) }),
    });
  });
  after(async () => {
    await farm?.stop();
    fixture?.remove();
  });

  it("names the culprit, skips the commit that does not build, and confirms the boundary", async () => {
    const added = await farm.api("/watches", {
      body: { name: "bis", repo: fixture.cpython.url, branch: "watched", suite: "local-build", every: "1s" },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal((await watchJob(fixture.first.sha)).status, "passed");
    // The whole range lands at once, as a busy day's pushes seen by one look-up.
    const head = fixture.range.at(-1)?.sha as string;
    fixture.cpython.git("branch", "--force", "watched", head);
    assert.equal((await watchJob(head)).status, "passed");

    const opened = await regressionOf("test_hold", head);
    assert.equal(opened.kind, "memory");
    assert.equal(opened.goodCommit, fixture.first.sha);
    const ended = await bisectionEnd(opened.id);
    const bisection = ended.bisection;
    assert.ok(bisection);
    const culprit = fixture.range[CULPRIT];
    assert.equal(bisection.state, "found", bisection.summary ?? "");
    assert.equal(bisection.culprit?.sha, culprit?.sha);
    assert.equal(bisection.culprit?.subject, culprit?.subject);
    assert.equal(bisection.culprit?.author, "Fake Author <author@example.org>");
    assert.equal(bisection.culpritRange, null);
    assert.deepEqual(
      bisection.commits.map((commit) => commit.sha),
      fixture.range.map((commit) => commit.sha),
      "the range in first-parent order, oldest first",
    );
    assert.ok(bisection.rounds <= roundBound(SIZE), `${bisection.rounds} rounds`);
    const broken = bisection.probes.find((probe) => probe.sha === fixture.range[BROKEN]?.sha);
    assert.equal(broken?.verdict, "skip", "the commit that does not build is skipped");
    const confirmations = bisection.probes.filter((probe) => probe.purpose === "confirm");
    assert.deepEqual(
      confirmations.map((probe) => [probe.sha, probe.verdict]),
      [
        [fixture.range[CULPRIT - 1]?.sha, "good"],
        [culprit?.sha, "bad"],
      ],
    );
    assert.match(
      bisection.summary ?? "",
      /test_hold's peak grew .* at [0-9a-f]{12} "gh-1234: grow the held buffer/,
    );

    // Every probe ran at low priority, only the regression's test, pinned to its commit.
    for (const probe of bisection.probes) {
      const job = (await farm.api(`/jobs/${probe.jobId}`)).body as JobResource;
      assert.equal(job.priority, "low");
      assert.deepEqual(job.tests, ["test_hold"]);
      assert.equal(job.commit, probe.sha);
      assert.equal(job.provenance.bisect, opened.id);
      assert.equal(job.provenance.watch, undefined, "a probe is not part of the watch's history");
    }
    const history = (await farm.api("/watches/bis/history")).body.runs as unknown[];
    assert.equal(history.length, 2, "the watch's history holds its own runs only");

    const page = await (await fetch(`${farm.url}/regressions/${opened.id}`)).text();
    assert.match(page, new RegExp(`${culprit?.sha.slice(0, 12)}`));
    assert.match(page, /gh-1234: grow the held buffer/);
  });

  it("does not blame a commit for a test that failed once", async () => {
    const previous = fixture.range.at(-1)?.sha as string;
    writeFileSync(fixture.flakyMarker, "");
    const next = fixture.commit(300, true, "A commit that changes nothing tested");
    fixture.cpython.git("branch", "--force", "watched", next.sha);
    assert.equal((await watchJob(next.sha)).status, "failed", "test_flaky failed this once");
    const opened = await regressionOf("test_flaky", next.sha);
    assert.equal(opened.kind, "outcome");
    assert.equal(opened.goodCommit, previous);
    const ended = await bisectionEnd(opened.id);
    assert.equal(ended.bisection?.state, "flaky", ended.bisection?.summary ?? "");
    assert.equal(ended.bisection?.culprit, null);
    assert.match(ended.closedWhy ?? "", /^not reproduced: test_flaky is flaky here/);
  });
});
