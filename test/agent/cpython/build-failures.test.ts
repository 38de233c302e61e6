import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { BuildError } from "../../../agent/cpython/build-error.ts";
import { type BuildContext, prepareCpython } from "../../../agent/cpython/prepare-cpython.ts";
import { ValidationError } from "../../../protocol/errors.ts";
import type { LogLine } from "../../../protocol/messages.ts";
import { allPids, isLive, readProcStat } from "../../../protocol/proc-stat.ts";
import { FakeCpython } from "../../helpers/fake-cpython.ts";

function contextFor(workDir: string, overrides: Partial<BuildContext> = {}): BuildContext {
  return {
    workDir,
    cores: 1,
    allowLocalRepos: true,
    onLog: () => {},
    signal: new AbortController().signal,
    ...overrides,
  };
}

function buildErrorWith(code: string, pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof BuildError, `expected a BuildError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  };
}

/** Processes (not zombies) whose working directory is under `dir`: what a build left running. */
function processesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const pid of allPids()) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(dir) && isLive(readProcStat(pid))) found.push(pid);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

function isRunning(pid: number): boolean {
  return isLive(readProcStat(pid));
}

describe("prepareCpython failures", () => {
  let fake: FakeCpython;

  before(() => {
    fake = new FakeCpython();
    fake.git("checkout", "--quiet", "-b", "slow");
    fake.write("SLOW_MAKE", "make sleeps 30 s\n");
    fake.commit("A build that takes long");
    fake.git("checkout", "--quiet", "main");
  });

  after(() => fake.remove());

  it("rejects hostile refs and URLs before running any command", async () => {
    const hostileRefs = ["--upload-pack=touch /tmp/x", "-x", "a b", "$(id)", "main;rm", "main\nrm"];
    const hostileRepos = ["ext::sh -c touch% /tmp/pwned", "--upload-pack=touch /tmp/x", "-x", "fd::7"];
    const workDir = fake.workDir("hostile");
    const log: LogLine[] = [];
    const onLog = (line: LogLine) => log.push(line);
    for (const ref of hostileRefs) {
      await assert.rejects(
        prepareCpython({ repo: fake.url, ref, configureFlags: [] }, contextFor(workDir, { onLog })),
        (error: unknown) => error instanceof ValidationError && error.field === "ref",
        ref,
      );
    }
    for (const repo of hostileRepos) {
      await assert.rejects(
        prepareCpython({ repo, ref: "main", configureFlags: [] }, contextFor(workDir, { onLog })),
        (error: unknown) => error instanceof ValidationError && error.field === "repo",
        repo,
      );
    }
    await assert.rejects(
      prepareCpython(
        { repo: "/tmp/local", ref: "main", configureFlags: [] },
        contextFor(workDir, { onLog, allowLocalRepos: false }),
      ),
      (error: unknown) =>
        error instanceof ValidationError && error.field === "repo" && /local/.test(error.message),
    );
    await assert.rejects(
      prepareCpython(
        { repo: fake.url, ref: "main", configureFlags: [] },
        contextFor(workDir, { onLog, allowLocalRepos: false }),
      ),
      (error: unknown) => error instanceof ValidationError && error.field === "repo",
    );
    await assert.rejects(
      prepareCpython(
        { repo: fake.url, ref: "main", configureFlags: ["; rm -rf /"] },
        contextFor(workDir, { onLog }),
      ),
      (error: unknown) => error instanceof ValidationError && error.field === "configureFlags",
    );
    assert.deepEqual(readdirSync(workDir), [], "no mirror or build directory was made");
    assert.deepEqual(log, [], "no command was run");
    assert.ok(!existsSync("/tmp/pwned"));
  });

  it("fails a ref the repository does not have with fetch_failed", async () => {
    const workDir = fake.workDir("missing");
    await assert.rejects(
      prepareCpython({ repo: fake.url, ref: "no-such-branch", configureFlags: [] }, contextFor(workDir)),
      buildErrorWith(
        "fetch_failed",
        /^git fetch of no-such-branch from file:\/\/\S+ failed: exit code 128\nlast line of its output:\nfatal: couldn.t find remote ref no-such-branch$/,
      ),
    );
    await assert.rejects(
      prepareCpython(
        { repo: fake.url, ref: "0123456789abcdef0123456789abcdef01234567", configureFlags: [] },
        contextFor(workDir),
      ),
      buildErrorWith(
        "fetch_failed",
        /no commit 0123456789abcdef0123456789abcdef01234567 .*neither the server nor any branch has it/,
      ),
    );
    await assert.rejects(
      prepareCpython({ repo: `${fake.url}-nowhere`, ref: "main", configureFlags: [] }, contextFor(workDir)),
      buildErrorWith("fetch_failed", /^git fetch of main from \S+-nowhere failed: exit code 128/),
    );
    assert.equal(
      readdirSync(join(workDir, "mirrors")).length,
      1,
      "no empty mirror for a repository that is not there",
    );
  });

  it("fails a broken configure with build_failed and its log tail, caches nothing, and builds on retry", async () => {
    const workDir = fake.workDir("broken");
    const request = { repo: fake.url, ref: "main", configureFlags: ["--with-pydebug"] };
    const makes = fake.makeCount();
    fake.breakConfigure(true);
    let failure: BuildError | undefined;
    await assert.rejects(prepareCpython(request, contextFor(workDir)), (error: unknown) => {
      failure = error as BuildError;
      return buildErrorWith("build_failed", /^configure failed: exit code 1/)(error);
    });
    assert.ok(failure);
    assert.equal(failure.step, "configure");
    assert.ok(failure.logTail.length <= 20 && failure.logTail.length >= 15);
    assert.match(failure.message, /configure: error: no usable C compiler \(fake\)/);
    assert.match(failure.message, /checking for feature 30\.\.\. no/);
    assert.doesNotMatch(failure.message, /checking for feature 5\.\.\. no/);
    assert.deepEqual(readdirSync(join(workDir, "builds")), [], "a failed build leaves no cache entry");
    assert.equal(fake.makeCount(), makes);

    fake.breakConfigure(false);
    const retry = await prepareCpython(request, contextFor(workDir));
    assert.equal(retry.cached, false);
    assert.equal(fake.makeCount(), makes + 1);
    const again = await prepareCpython(request, contextFor(workDir));
    assert.equal(again.cached, true);
  });

  it("cancels a slow make when the signal aborts, and leaves no process behind", async () => {
    const workDir = fake.workDir("cancel");
    const controller = new AbortController();
    const started = Date.now();
    const building = prepareCpython(
      { repo: fake.url, ref: "slow", configureFlags: [] },
      contextFor(workDir, { signal: controller.signal }),
    );
    const rejected = assert.rejects(
      building,
      buildErrorWith("build_canceled", /^make was stopped: the job was canceled/),
    );
    while (!existsSync(fake.slowMakePidFile)) {
      assert.ok(Date.now() - started < 10_000, "the slow make did not start");
      await sleep(20);
    }
    const sleepPid = Number(readFileSync(fake.slowMakePidFile, "utf8").trim());
    assert.ok(isRunning(sleepPid));
    controller.abort();
    await rejected;
    assert.ok(Date.now() - started < 10_000, "the cancel did not wait for make");
    assert.ok(!isRunning(sleepPid), "make's child is gone");
    assert.deepEqual(processesUnder(workDir), []);
    assert.deepEqual(readdirSync(join(workDir, "builds")), [], "a canceled build leaves no cache entry");
  });

  it("kills a build that runs past its time limit and fails it with build_failed", async () => {
    const workDir = fake.workDir("timeout");
    await assert.rejects(
      prepareCpython(
        { repo: fake.url, ref: "slow", configureFlags: [] },
        contextFor(workDir, { timeouts: { buildMs: 1500 } }),
      ),
      buildErrorWith("build_failed", /^make failed: timed out after [\d.]+ s/),
    );
    assert.deepEqual(processesUnder(workDir), []);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const workDir = fake.workDir("aborted");
    await assert.rejects(
      prepareCpython(
        { repo: fake.url, ref: "main", configureFlags: [] },
        contextFor(workDir, { signal: AbortSignal.abort() }),
      ),
      buildErrorWith("build_canceled", /canceled/),
    );
  });
});
