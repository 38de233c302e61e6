import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type BuildContext, prepareCpython } from "../../../agent/cpython/prepare-cpython.ts";
import type { LogLine } from "../../../protocol/messages.ts";
import { FakeCpython } from "../../helpers/fake-cpython.ts";

function contextFor(workDir: string, log: LogLine[] = []): BuildContext {
  return {
    workDir,
    cores: 2,
    allowLocalRepos: true,
    onLog: (line) => log.push(line),
    signal: new AbortController().signal,
  };
}

function runs(python: string): string {
  return execFileSync(python, ["-c", "print(1)"], { encoding: "utf8" }).trim();
}

function configureFlagsOf(python: string): string[] {
  return readFileSync(join(dirname(python), "configure-flags.txt"), "utf8")
    .split("\n")
    .filter(Boolean);
}

describe("prepareCpython from a local repository", () => {
  let fake: FakeCpython;
  let tag: string;
  let feature: string;
  let pullHead: string;

  before(() => {
    fake = new FakeCpython();
    fake.commit("A commit of long ago", "2021-03-04T05:06:07+02:00");
    fake.git("tag", "--annotate", "--message", "release", "v3.99.0a1");
    tag = fake.revParse("v3.99.0a1");
    fake.git("checkout", "--quiet", "-b", "feature");
    fake.write("Lib/feature.py", "FEATURE = True\n");
    feature = fake.commit("A feature branch");
    fake.git("checkout", "--quiet", "-b", "contributor", "main");
    fake.write("Lib/pr.py", "PR = 1\n");
    pullHead = fake.commit("A pull request");
    fake.git("update-ref", "refs/pull/1/head", pullHead);
    fake.git("checkout", "--quiet", "main");
    // Only refs/pull/1/head keeps the pull request's commit, as on GitHub.
    fake.git("branch", "--quiet", "-D", "contributor");
  });

  after(() => fake.remove());

  it("builds a branch, records its exact commit and its committer time, and gives a working interpreter", async () => {
    const log: LogLine[] = [];
    const result = await prepareCpython(
      { repo: fake.url, ref: "main", configureFlags: ["--with-pydebug"] },
      contextFor(fake.workDir("branch"), log),
    );
    assert.equal(result.commit, fake.revParse("main"));
    // Committed in another time zone, years ago: the time is git's, told in UTC.
    assert.equal(fake.committerDate("main"), "2021-03-04T05:06:07+02:00");
    assert.equal(result.commitTime, "2021-03-04T03:06:07.000Z");
    assert.equal(result.cached, false);
    assert.equal(runs(result.python), "1");
    assert.deepEqual(configureFlagsOf(result.python), ["--with-pydebug"]);
    assert.ok(log.some((line) => line.stream === "system" && line.text.startsWith("$ git ")));
    assert.ok(
      log.some((line) => line.stream === "stdout" && line.text === "fake configure: flags --with-pydebug"),
    );
    // The build tree is a checkout at that commit, so CPython's build can record it.
    const head = execFileSync("git", ["-C", dirname(result.python), "rev-parse", "HEAD"], {
      encoding: "utf8",
    });
    assert.equal(head.trim(), result.commit);
  });

  it("builds a tag, a full SHA, an abbreviated SHA and pull/1/head", async () => {
    const cases: [string, string][] = [
      ["v3.99.0a1", tag],
      [feature, feature],
      [feature.slice(0, 10), feature],
      ["pull/1/head", pullHead],
    ];
    for (const [ref, commit] of cases) {
      const result = await prepareCpython(
        { repo: fake.url, ref, configureFlags: [] },
        contextFor(fake.workDir(`ref-${ref.replaceAll("/", "-")}`)),
      );
      assert.equal(result.commit, commit, ref);
      assert.equal(runs(result.python), "1", ref);
    }
  });

  it("takes a second job on the same commit and flags from the cache, and rebuilds for other flags", async () => {
    const workDir = fake.workDir("cache");
    const request = { repo: fake.url, ref: "main", configureFlags: ["--with-pydebug"] };
    const first = await prepareCpython(request, contextFor(workDir));
    const makes = fake.makeCount();
    const second = await prepareCpython(request, contextFor(workDir));
    assert.equal(second.cached, true);
    assert.equal(second.python, first.python);
    assert.equal(second.commit, first.commit);
    assert.equal(second.commitTime, "2021-03-04T03:06:07.000Z", "a cached build knows its commit's time");
    assert.equal(fake.makeCount(), makes, "a cached build runs no make");

    const other = await prepareCpython({ ...request, configureFlags: ["--with-lto"] }, contextFor(workDir));
    assert.equal(other.cached, false);
    assert.notEqual(other.python, first.python);
    assert.deepEqual(configureFlagsOf(other.python), ["--with-lto"]);
    assert.equal(fake.makeCount(), makes + 1);
    assert.equal(readdirSync(join(workDir, "mirrors")).length, 1, "one mirror per repository");
  });

  it("builds once when two jobs ask for the same build at the same time", async () => {
    const workDir = fake.workDir("concurrent");
    const request = { repo: fake.url, ref: "v3.99.0a1", configureFlags: ["--without-doc-strings"] };
    const makes = fake.makeCount();
    const results = await Promise.all([
      prepareCpython(request, contextFor(workDir)),
      prepareCpython(request, contextFor(workDir)),
    ]);
    assert.deepEqual(results.map((result) => result.cached).sort(), [false, true]);
    assert.equal(results[0]?.python, results[1]?.python);
    assert.equal(fake.makeCount(), makes + 1);
  });

  it("builds the commit a job is pinned to when its pull request moved on (a force-push)", async () => {
    fake.git("checkout", "--quiet", "-b", "contributor-2", "main");
    fake.write("Lib/pr.py", "PR = 2\n");
    const asRead = fake.commit("A second pull request", "2022-05-06T07:08:09Z");
    fake.git("update-ref", "refs/pull/2/head", asRead);
    fake.git("checkout", "--quiet", "main");
    fake.git("branch", "--quiet", "-D", "contributor-2");
    // Force-pushed before the agent fetches: the old head is reachable from no ref at all.
    fake.git("checkout", "--quiet", "-b", "contributor-3", "main");
    fake.write("Lib/pr.py", "PR = 3\n");
    fake.git("update-ref", "refs/pull/2/head", fake.commit("Rewritten"));
    fake.git("checkout", "--quiet", "main");
    fake.git("branch", "--quiet", "-D", "contributor-3");

    const log: LogLine[] = [];
    const built = await prepareCpython(
      { repo: fake.url, ref: "pull/2/head", configureFlags: [], commit: asRead },
      contextFor(fake.workDir("pinned"), log),
    );
    assert.equal(built.commit, asRead);
    assert.equal(built.commitTime, "2022-05-06T07:08:09.000Z", "the time of the commit built, not the ref's");
    assert.equal(readFileSync(join(dirname(built.python), "Lib", "pr.py"), "utf8"), "PR = 2\n");
    assert.ok(log.some((line) => line.text.includes(`pinned to ${asRead}`)));
  });

  it("fetches a new commit on a branch it fetched before", async () => {
    const workDir = fake.workDir("refetch");
    const request = { repo: fake.url, ref: "feature", configureFlags: [] };
    const before = await prepareCpython(request, contextFor(workDir));
    fake.git("checkout", "--quiet", "feature");
    fake.write("Lib/feature.py", "FEATURE = 2\n");
    const next = fake.commit("More feature");
    fake.git("checkout", "--quiet", "main");
    const log: LogLine[] = [];
    const after = await prepareCpython(request, contextFor(workDir, log));
    assert.notEqual(after.commit, before.commit);
    assert.equal(after.commit, next);
    assert.equal(after.cached, false);
    assert.equal(runs(after.python), "1");
    const checkedOut = readFileSync(join(dirname(after.python), "Lib", "feature.py"), "utf8");
    assert.equal(checkedOut, "FEATURE = 2\n");
  });
});
