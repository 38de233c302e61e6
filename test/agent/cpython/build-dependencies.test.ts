import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { checkBuildDependencies } from "../../../agent/cpython/build-dependencies.ts";
import { BuildError } from "../../../agent/cpython/build-error.ts";
import { type BuildContext, prepareCpython } from "../../../agent/cpython/prepare-cpython.ts";
import type { LogLine } from "../../../protocol/messages.ts";
import { FakeCpython } from "../../helpers/fake-cpython.ts";

/** With this machine's real compiler: a header it has and one nobody has. */
const PRESENT = { header: "stdio.h", debianPackage: "libc6-dev", modules: "everything" };
const ABSENT = {
  header: "memfarm/no-such-header.h",
  debianPackage: "libmemfarm-test-dev",
  modules: "_memfarm_test",
};

describe("the build-dependency check before a CPython build", () => {
  const empty = mkdtempSync(join(tmpdir(), "memfarm-no-tools-"));
  after(() => rmSync(empty, { recursive: true, force: true }));

  it("names the Debian package and the modules of each header the compiler cannot find", async () => {
    const message = await checkBuildDependencies(process.env, [PRESENT, ABSENT]);
    assert.equal(
      message,
      "this host lacks libmemfarm-test-dev (_memfarm_test): CPython builds without those modules and " +
        "their tests are skipped; to have them, install: sudo apt-get install libmemfarm-test-dev",
    );
    assert.equal(
      await checkBuildDependencies(process.env, [PRESENT]),
      null,
      "nothing to say when nothing lacks",
    );
  });

  it("refuses at once, saying what to install, on a host without a compiler or make", async () => {
    await assert.rejects(
      checkBuildDependencies({ PATH: empty }, [PRESENT]),
      (error: unknown) =>
        error instanceof BuildError &&
        error.code === "build_failed" &&
        error.step === "build dependencies" &&
        /a C compiler \(cc, gcc or clang\) and make not found/.test(error.message) &&
        /apt-get install build-essential/.test(error.message),
    );
    await assert.rejects(
      checkBuildDependencies({ PATH: process.env.PATH, CC: join(empty, "cc") }, [PRESENT]),
      /a C compiler \(cc, gcc or clang\) not found/,
      "a CC that is not there counts as no compiler, as configure would fail on it",
    );
  });

  it("stops a build before its checkout when the compiler is missing, and leaves no build behind", async () => {
    const fake = new FakeCpython();
    fake.commit("Something to build");
    const log: LogLine[] = [];
    const context: BuildContext = {
      workDir: fake.workDir("no-compiler"),
      cores: 1,
      allowLocalRepos: true,
      onLog: (line) => log.push(line),
      signal: new AbortController().signal,
    };
    const savedCc = process.env.CC;
    process.env.CC = join(empty, "cc");
    try {
      await assert.rejects(
        prepareCpython({ repo: fake.url, ref: "main", configureFlags: [] }, context),
        /build dependencies.*install build-essential/s,
      );
    } finally {
      if (savedCc === undefined) delete process.env.CC;
      else process.env.CC = savedCc;
      fake.remove();
    }
    assert.ok(!log.some((line) => line.text.includes("worktree add")), "no checkout was made");
  });
});
