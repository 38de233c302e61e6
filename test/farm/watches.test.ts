import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobResource, WatchResource, WatchRunResource } from "../../protocol/resources.ts";
import { runCli } from "../helpers/cli.ts";
import { FakeCpython, localBuildSuite } from "../helpers/fake-cpython.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";
import { until } from "../helpers/until.ts";

/**
 * Watched branches through the whole farm: the coordinator looks the branch up (git ls-remote on a
 * real repository), queues a job pinned to each new head, coalesces heads while the farm is busy,
 * and shows a failing look-up without queueing anything.
 */
describe("watched branches, through the whole farm", { timeout: 300_000 }, () => {
  let farm: TestFarm;
  let cpython: FakeCpython;
  const agent = "test-agent";

  const watchJobs = async (name: string) =>
    ((await farm.api("/jobs?limit=100")).body.jobs as JobResource[]).filter(
      (job) => job.provenance.watch === name,
    );

  before(async () => {
    cpython = new FakeCpython();
    const testDir = mkdtempSync(join(tmpdir(), "memfarm-watch-tests-"));
    writeFileSync(
      join(testDir, "test_fine.py"),
      "import unittest\nclass T(unittest.TestCase):\n    def test_ok(self): pass\n",
    );
    farm = await startFarm({
      agentName: agent,
      allowLocalRepos: true,
      jobsDir: makeJobsDir({ "local-build": localBuildSuite(testDir) }),
    });
  });
  after(async () => {
    await farm?.stop();
    cpython?.remove();
  });

  it("queues a job pinned to the branch's head, and one for each new head", async () => {
    const added = await farm.api("/watches", {
      body: { name: "main-smoke", repo: cpython.url, branch: "main", suite: "local-build", every: "1s" },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const first = await until(async () => (await watchJobs("main-smoke"))[0], "a job for the head");
    assert.equal(first.commit, cpython.revParse("main"));
    assert.deepEqual(
      [first.ref, first.provenance.source, first.provenance.watch],
      ["main", "watch", "main-smoke"],
    );
    assert.equal((await farm.waitFor(first.id, finished)).status, "passed");
    // Read once now, so that the coordinator holds these answers in memory when the next run ends.
    const runsOf = async (query: string) =>
      ((await farm.api(`/watches/main-smoke/history${query}`)).body as { runs: WatchRunResource[] }).runs;
    assert.deepEqual(
      (await runsOf("")).map((run) => run.jobId),
      [first.id],
    );
    assert.deepEqual(
      (await runsOf("?test=test_fine")).map((run) => run.jobId),
      [first.id],
    );

    cpython.write("NEWS", "a second commit\n");
    // Committed long before the watch saw it, in another time zone.
    const second = cpython.commit("Second", "2021-03-04T05:06:07+02:00");
    const next = await until(
      async () => (await watchJobs("main-smoke")).find((job) => job.commit === second),
      "a job for the new head",
    );
    assert.equal((await farm.waitFor(next.id, finished)).status, "passed");
    // No stale history: the answers read before show the new run once it has ended.
    assert.deepEqual(
      (await runsOf("")).map((run) => [run.jobId, run.status]),
      [
        [next.id, "passed"],
        [first.id, "passed"],
      ],
    );
    assert.deepEqual(
      (await runsOf("?test=test_fine")).map((run) => run.jobId),
      [next.id, first.id],
    );
    const jobPage = await (await fetch(`${farm.url}/jobs/${next.id}`)).text();
    assert.match(jobPage, /<dd id="job-watch"><a href="\/watches\/main-smoke">main-smoke<\/a>/);
    assert.match(jobPage, new RegExp(`the run before: <a href="/jobs/${first.id}">#${first.id}</a>`));
    assert.match(jobPage, new RegExp(`href="/compare\\?base=${first.id}&amp;head=${next.id}"`));
    const watch = (await farm.api("/watches/main-smoke")).body as WatchResource;
    assert.equal(watch.head, second);
    const page = await (await fetch(`${farm.url}/watches/main-smoke`)).text();
    assert.match(
      page,
      new RegExp(
        `<code>${second.slice(0, 12)}</code>\\s*<a href="/jobs/${next.id}">job ${next.id}: passed</a>`,
      ),
    );
    assert.match(await (await fetch(`${farm.url}/watches`)).text(), /href="\/watches\/main-smoke"/);
    assert.deepEqual(
      watch.commits.map((commit) => [commit.sha, commit.jobId]),
      [
        [second, next.id],
        [first.commit, first.id],
      ],
    );

    // Each run carries its commit's own time, as git has it in the repository, told in UTC.
    const committed = (sha: string | null) => new Date(cpython.committerDate(sha ?? "")).toISOString();
    assert.equal(committed(second), "2021-03-04T03:06:07.000Z");
    const history = (await farm.api("/watches/main-smoke/history")).body as { runs: WatchRunResource[] };
    assert.deepEqual(
      history.runs.map((run) => [run.commit, run.commitTime]),
      [
        [second, committed(second)],
        [first.commit, committed(first.commit)],
      ],
    );
    const ofTest = (await farm.api("/watches/main-smoke/history?test=test_fine")).body as {
      runs: WatchRunResource[];
    };
    assert.deepEqual(
      ofTest.runs.map((run) => run.commitTime),
      [committed(second), committed(first.commit)],
    );
    assert.equal(((await farm.api(`/jobs/${next.id}`)).body as JobResource).commitTime, committed(second));
    assert.deepEqual(
      watch.commits.map((commit) => commit.commitTime),
      [committed(second), committed(first.commit)],
    );
    assert.match(page, /committed <time datetime="2021-03-04T03:06:07.000Z">/);
    const shown = await runCli(["watch", "show", "main-smoke", "--url", farm.url]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`${second.slice(0, 12)}\\s+2021-03-04T03:06:07.000Z\\s`));
  });

  it("keeps one queued job per watch while the farm is busy: the newest head wins, the others are untested", async () => {
    assert.equal((await farm.api(`/agents/${agent}/drain`, { body: {} })).status, 200);
    await farm.api("/watches/main-smoke/pause", { body: {} });
    const before = (await watchJobs("main-smoke")).length;
    cpython.write("NEWS", "third\n");
    const third = cpython.commit("Third");
    await farm.api("/watches/main-smoke/resume", { body: {} });
    const queued = await until(
      async () =>
        (await watchJobs("main-smoke")).find((job) => job.commit === third && job.status === "queued"),
      "a queued job for the third head",
    );
    cpython.write("NEWS", "fourth\n");
    const fourth = cpython.commit("Fourth");
    const checked = (await farm.api("/watches/main-smoke/check", { body: {} })).body as WatchResource;
    assert.equal(checked.head, fourth);
    const jobs = await watchJobs("main-smoke");
    assert.equal(jobs.length, before + 1, "no second job: the waiting one took the newer head");
    assert.equal(jobs.find((job) => job.id === queued.id)?.commit, fourth);
    assert.deepEqual(
      checked.commits.slice(0, 2).map((commit) => [commit.sha, commit.jobId]),
      [
        [fourth, queued.id],
        [third, null],
      ],
      "the third head is recorded as untested",
    );
    assert.equal((await farm.api(`/agents/${agent}/undrain`, { body: {} })).status, 200);
    const done = await farm.waitFor(queued.id, finished);
    assert.deepEqual([done.status, done.commit], ["passed", fourth]);

    // The history: every run of the watch, newest first, for the whole job and for one test.
    const history = (await farm.api("/watches/main-smoke/history")).body as { runs: WatchRunResource[] };
    assert.deepEqual(
      history.runs.slice(0, 2).map((run) => [run.jobId, run.commit, run.status]),
      [
        [queued.id, fourth, "passed"],
        [jobs.find((job) => job.commit === checked.commits[2]?.sha)?.id, checked.commits[2]?.sha, "passed"],
      ],
    );
    const ofTest = (await farm.api("/watches/main-smoke/history?test=test_fine&limit=2")).body as {
      test: string;
      runs: WatchRunResource[];
    };
    assert.equal(ofTest.test, "test_fine");
    assert.deepEqual(
      ofTest.runs.map((run) => [run.jobId, run.outcome]),
      [
        [queued.id, "passed"],
        [history.runs[1]?.jobId, "passed"],
      ],
    );
    assert.ok(ofTest.runs.every((run) => run.seenAt !== null && run.durationSeconds !== null));
    assert.equal((await farm.api("/watches/main-smoke/history?limit=0")).status, 400);
    const trend = await (await fetch(`${farm.url}/watches/main-smoke?test=test_fine`)).text();
    assert.match(trend, /<svg[^>]*aria-label="Peak memory of test_fine over the last \d+ runs/);
    assert.match(trend, new RegExp(`<a href="/jobs/${queued.id}"><circle`));
  });

  it("shows a failing look-up on the watch and queues nothing", async () => {
    const added = await farm.api("/watches", {
      body: { name: "gone", repo: cpython.url, branch: "no-such-branch", suite: "local-build", every: "1s" },
    });
    assert.equal(added.status, 201);
    const watch = await until(async () => {
      const one = (await farm.api("/watches/gone")).body as WatchResource;
      return one.error ? one : null;
    }, "the look-up's error");
    assert.match(watch.error ?? "", /the branch no-such-branch does not exist in/);
    assert.deepEqual(await watchJobs("gone"), []);
    assert.equal((await farm.api("/watches/gone", { method: "DELETE" })).status, 200);
    assert.equal((await farm.api("/watches/gone")).status, 404);
  });

  it("refuses a bad watch with an error naming the field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: "Bad Name", branch: "main", suite: "local-build" }, "name"],
      [{ name: "w1", branch: "pull/1/head", suite: "local-build" }, "branch"],
      [{ name: "w1", branch: "main", suite: "no-such-suite" }, "suite"],
      [{ name: "w1", branch: "main", suite: "local-build", every: "soon" }, "every"],
      [{ name: "w1", branch: "main", suite: "local-build", repo: "ext::sh -c id" }, "repo"],
      [{ name: "main-smoke", branch: "main", suite: "local-build", repo: cpython.url }, "name"],
    ];
    for (const [body, field] of cases) {
      const refused = await farm.api("/watches", { body });
      assert.ok(
        refused.status === 400 || refused.status === 409,
        `${JSON.stringify(body)}: ${refused.status}`,
      );
      assert.ok(
        refused.body.error.field === field || (refused.status === 409 && field === "name"),
        `${JSON.stringify(body)}: ${JSON.stringify(refused.body)}`,
      );
    }
  });
});
