import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobResource } from "../protocol/resources.ts";
import { finished, startFarm, type TestFarm } from "../test/helpers/farm.ts";

/**
 * Opt-in (`MEMFARM_CPYTHON_REPO=... npm run test:cpython`, 30-60 minutes on 2 cores): the real
 * CPython source through the whole farm (real coordinator, NATS, agent). A release tag (annotated,
 * as every CPython release tag is) is built with --with-pydebug; bigmem-smoke and a short refleak
 * selection run on it, and each job's counts and result must equal a hand-run of the very command
 * the job ran, on the same interpreter. The same commit by branch, full SHA and pull/N/head (when
 * the repository has that ref) comes from the build cache.
 *
 * MEMFARM_CPYTHON_REPO: a CPython git repository (a path or URL; the agent allows local ones here).
 * MEMFARM_CPYTHON_TAG: the release tag to build (default: the newest vX.Y.Z tag of the repository).
 */

const repo = process.env.MEMFARM_CPYTHON_REPO ?? "";

function git(args: string[]): string {
  return execFileSync("git", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }).trim();
}

/** The newest vX.Y.Z tag, by version (release candidates and alphas left out). */
function newestReleaseTag(): string {
  const tags = git(["ls-remote", "--tags", "--refs", repo])
    .split("\n")
    .map((line) => line.split("refs/tags/")[1] ?? "")
    .filter((tag) => /^v\d+\.\d+\.\d+$/.test(tag));
  const version = (tag: string) => tag.slice(1).split(".").map(Number);
  tags.sort((a, b) => {
    const [x, y] = [version(a), version(b)];
    return (x[0] ?? 0) - (y[0] ?? 0) || (x[1] ?? 0) - (y[1] ?? 0) || (x[2] ?? 0) - (y[2] ?? 0);
  });
  const newest = tags.at(-1);
  if (!newest) throw new Error(`no vX.Y.Z release tag in ${repo}`);
  return newest;
}

/**
 * What CPython's regrtest itself says of a run, read independently of the agent's reader: unittest's
 * "Ran N tests" summed (verbose runs), "Total tests: run=N" (3.11.7+), the files in its "N tests OK." /
 * "N tests failed:" blocks, and its result line.
 */
function regrtestSummary(output: string): {
  ran: number;
  total: number | null;
  files: number;
  result: string;
} {
  const sum = (pattern: RegExp) =>
    [...output.matchAll(pattern)].reduce((all, match) => all + Number(match[1]), 0);
  const total = /^Total tests: run=(\d+)/m.exec(output)?.[1];
  const result = /^(?:== )?Tests result: (.+?)(?: ==)?$/m.exec(output)?.[1] ?? "(no result line)";
  return {
    ran: sum(/^Ran (\d+) tests? in /gm),
    total: total === undefined ? null : Number(total),
    files: sum(/^(?:All )?(\d+) tests? (?:OK\.|failed:)/gm),
    result,
  };
}

/** The count a job should show: cases where regrtest gives them, else the files it ran. */
const expectedRun = (summary: ReturnType<typeof regrtestSummary>) =>
  summary.total ?? (summary.ran > 0 ? summary.ran : summary.files);

/** Runs the interpreter as a person would, from a scratch directory; resolves whatever it exits with. */
function handRun(python: string, args: string[]): Promise<string> {
  const cwd = mkdtempSync(join(tmpdir(), "memfarm-hand-run-"));
  return new Promise((resolve) => {
    execFile(
      python,
      args,
      { cwd, maxBuffer: 256 * 1024 * 1024, timeout: 3_600_000 },
      (_error, stdout, stderr) => {
        rmSync(cwd, { recursive: true, force: true });
        resolve(stdout + stderr);
      },
    );
  });
}

describe("the real CPython source through the farm", { timeout: 4 * 3_600_000 }, () => {
  let farm: TestFarm;
  let tag = "";
  let commit = "";
  let python = "";
  const logOf = async (job: JobResource) =>
    (await farm.api(`/jobs/${job.id}/log?format=text`)).body as string;

  before(async () => {
    if (repo === "")
      throw new Error("set MEMFARM_CPYTHON_REPO to a CPython git repository (a path or a URL)");
    tag = process.env.MEMFARM_CPYTHON_TAG ?? newestReleaseTag();
    commit = git(["ls-remote", repo, `refs/tags/${tag}^{}`]).split(/\s/)[0] ?? "";
    assert.match(commit, /^[0-9a-f]{40}$/, `${tag} is an annotated tag of ${repo}`);
    // refleak reserves 4 workers × 4 GiB + 2 GiB; the agent offers that much, whatever the machine.
    farm = await startFarm({ allowLocalRepos: true, memory: "20G" });
  });
  after(async () => farm?.stop());

  it("builds the release tag (peeled to its commit) and passes bigmem-smoke, with the steps in its log", async () => {
    const started = Date.now();
    const queued = await farm.submit({ suite: "bigmem-smoke", ref: tag, repo });
    const job = await farm.waitFor(queued.id, finished, 3 * 3_600_000);
    const log = await logOf(job);
    console.log(
      `# bigmem-smoke on ${tag}: ${job.status} in ${((Date.now() - started) / 60_000).toFixed(1)} min`,
    );
    assert.equal(job.status, "passed", `${job.error}\n${log.slice(-4000)}`);
    assert.deepEqual([job.ref, job.commit], [tag, commit], "the job shows the tag and its commit");
    for (const step of [/^\$ git .*fetch/m, /\/configure --with-pydebug/m, /^\$ make -j\d+/m])
      assert.match(log, step, "the build's steps are in the job's log");
    python = /^built (\S+)$/m.exec(log)?.[1] ?? "";
    assert.ok(python.endsWith("/python"), "the log names the interpreter it built");

    const hand = await handRun(python, job.args);
    const [ours, theirs] = [regrtestSummary(log), regrtestSummary(hand)];
    console.log(
      `# bigmem-smoke: job ${JSON.stringify(job.counts)} ${JSON.stringify(ours)}, by hand ${JSON.stringify(theirs)}`,
    );
    assert.deepEqual(ours, theirs, "the job ran what a hand-run of its command runs, with the same result");
    assert.equal(job.counts?.run, expectedRun(theirs), "the job's count is regrtest's");
  });

  it("runs a short refleak selection on the same build, with regrtest's own counts", async () => {
    const queued = await farm.submit({
      suite: "refleak",
      ref: tag,
      repo,
      tests: ["test_bisect", "test_bool"],
    });
    const job = await farm.waitFor(queued.id, finished, 3_600_000);
    const log = await logOf(job);
    assert.equal(job.status, "passed", `${job.error}\n${log.slice(-4000)}`);
    assert.match(log, /^using the build of /m, "the same commit and flags come from the build cache");
    const hand = await handRun(python, job.args);
    const [ours, theirs] = [regrtestSummary(log), regrtestSummary(hand)];
    console.log(
      `# refleak: job ${JSON.stringify(job.counts)} ${JSON.stringify(ours)}, by hand ${JSON.stringify(theirs)}`,
    );
    assert.deepEqual(ours, theirs, "the job ran what a hand-run of its command runs, with the same result");
    assert.equal(job.counts?.run, expectedRun(theirs), "the job's count is regrtest's (files, under -j)");
    assert.equal(job.failedTests.length, 0);
  });

  it("finds the same commit by branch, full SHA and pull/N/head, from the build cache", async () => {
    const branch = git(["ls-remote", "--heads", repo])
      .split("\n")
      .find((line) => line.startsWith(commit))
      ?.split("refs/heads/")[1];
    const pull = git(["ls-remote", repo, "refs/pull/*/head"])
      .split("\n")
      .find((line) => line.startsWith(commit))
      ?.split("refs/")[1];
    const refs = [commit, ...(branch ? [branch] : []), ...(pull ? [pull] : [])];
    console.log(`# refs of ${commit}: ${refs.join(", ")}`);
    for (const ref of refs) {
      const queued = await farm.submit({ suite: "bigmem-smoke", ref, repo, tests: ["test_bool"] });
      const job = await farm.waitFor(queued.id, finished, 1_800_000);
      assert.equal(job.status, "passed", `${ref}: ${job.error}`);
      assert.deepEqual([job.ref, job.commit], [ref, commit]);
      assert.match(await logOf(job), /^using the build of /m, `${ref} is the cached build`);
    }
  });
});
