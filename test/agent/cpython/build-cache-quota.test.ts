import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { compileAgentConfig } from "../../../agent/config.ts";
import { BUILT_MARKER } from "../../../agent/cpython/build-cache.ts";
import { BuildsInUse, evictBuilds } from "../../../agent/cpython/build-cache-quota.ts";
import { type BuildContext, prepareCpython } from "../../../agent/cpython/prepare-cpython.ts";
import type { LogLine } from "../../../protocol/messages.ts";
import { runCli } from "../../helpers/cli.ts";
import { FakeCpython } from "../../helpers/fake-cpython.ts";

const MIB = 1024 * 1024;

/** A finished build of `bytes` last used `minutesAgo` minutes ago, as the agent leaves one. */
function finishedBuild(buildsDir: string, name: string, bytes: number, minutesAgo: number): string {
  const dir = join(buildsDir, name);
  mkdirSync(join(dir, "Lib"), { recursive: true });
  writeFileSync(join(dir, "Lib", "big.bin"), Buffer.alloc(bytes));
  writeFileSync(join(dir, BUILT_MARKER), "{}\n");
  const when = new Date(Date.now() - minutesAgo * 60_000);
  utimesSync(join(dir, BUILT_MARKER), when, when);
  return dir;
}

describe("the build cache quota on real directories", () => {
  let buildsDir: string;
  before(() => {
    buildsDir = mkdtempSync(join(tmpdir(), "memfarm-build-quota-"));
  });
  after(() => rmSync(buildsDir, { recursive: true, force: true }));

  it("removes the least recently used builds until the rest fit, skipping one in use and one under way", async () => {
    const oldest = finishedBuild(buildsDir, "a-1", MIB, 30);
    const older = finishedBuild(buildsDir, "b-1", MIB, 20);
    const old = finishedBuild(buildsDir, "c-1", MIB, 10);
    const newest = finishedBuild(buildsDir, "d-1", MIB, 1);
    // A build still running has no marker yet: it is neither counted nor removed.
    const underWay = join(buildsDir, "e-1");
    mkdirSync(underWay);
    writeFileSync(join(underWay, "half.o"), Buffer.alloc(3 * MIB));

    const inUse = new BuildsInUse();
    const release = inUse.hold(oldest);
    const log: string[] = [];
    const report = await evictBuilds(buildsDir, 2.5 * MIB, inUse, (text) => log.push(text));
    assert.deepEqual(report.removed, [older, old], "the oldest is in use: the next two go");
    assert.ok(existsSync(oldest) && existsSync(newest) && existsSync(underWay));
    assert.ok(report.keptBytes <= 2.5 * MIB);
    assert.match(log[0] ?? "", /removed the build .*b-1 \(1\.0 MiB, least recently used\)/);

    release();
    const second = await evictBuilds(buildsDir, 1.5 * MIB, inUse, () => undefined);
    assert.deepEqual(second.removed, [oldest], "once released it is the first to go");
    assert.deepEqual(readdirSync(buildsDir).sort(), ["d-1", "e-1"]);
  });

  it("says so when only builds in use are left over the quota", async () => {
    const dir = finishedBuild(buildsDir, "f-1", MIB, 5);
    const inUse = new BuildsInUse();
    inUse.hold(dir);
    inUse.hold(join(buildsDir, "d-1"));
    const log: string[] = [];
    const report = await evictBuilds(buildsDir, 1, inUse, (text) => log.push(text));
    assert.deepEqual(report.removed, []);
    assert.match(log.join("\n"), /over its 1 B: the builds left are in use by running jobs/);
  });
});

describe("prepareCpython with --build-cache-size", () => {
  let fake: FakeCpython;
  const commits: string[] = [];
  before(() => {
    fake = new FakeCpython();
    for (const name of ["one", "two", "three"]) {
      fake.git("checkout", "--quiet", "-b", name, "main");
      fake.write(`Lib/${name}.py`, `NAME = ${JSON.stringify(name)}\n`);
      commits.push(fake.commit(`branch ${name}`));
    }
  });
  after(() => fake.remove());

  it("evicts released builds after a new one, never the one a running attempt holds", async () => {
    const workDir = fake.workDir("quota");
    const log: LogLine[] = [];
    const context: BuildContext = {
      workDir,
      cores: 2,
      allowLocalRepos: true,
      onLog: (line) => log.push(line),
      signal: new AbortController().signal,
      buildCacheBytes: 1,
    };
    const request = (ref: string) => ({ repo: fake.url, ref, configureFlags: [] });
    const buildsDir = join(workDir, "builds");
    const builds = () => readdirSync(buildsDir).map((name) => name.split("-")[0]);

    const one = await prepareCpython(request("one"), context);
    const two = await prepareCpython(request("two"), context);
    assert.deepEqual(builds().sort(), [commits[0], commits[1]].sort(), "both in use: nothing removed");
    assert.match(
      log.map((line) => line.text).join("\n"),
      /the build cache takes .* over its 1 B: the builds left are in use/,
    );

    one.release();
    two.release();
    const three = await prepareCpython(request("three"), context);
    assert.deepEqual(builds(), [commits[2]], "the released builds went, the new one stays");
    assert.ok(existsSync(three.python));
    three.release();

    // Used again after eviction: built again, not taken from a removed directory.
    const again = await prepareCpython(request("one"), context);
    assert.equal(again.cached, false);
    again.release();
  });

  it("reads the size as the agent's flag, with an error that names it", () => {
    const config = compileAgentConfig({ nats: "nats://127.0.0.1:4222", buildCacheSize: "50G" });
    assert.equal(config.buildCacheBytes, 50 * 1024 ** 3);
    assert.equal(compileAgentConfig({ nats: "nats://127.0.0.1:4222" }).buildCacheBytes, undefined);
    assert.throws(
      () => compileAgentConfig({ nats: "nats://127.0.0.1:4222", buildCacheSize: "lots" }),
      /--build-cache-size: "lots" is not a size/,
    );
  });

  it("memfarm agent refuses a cache size it cannot read before it connects, with exit 2", async () => {
    const run = await runCli(["agent", "--nats", "nats://127.0.0.1:1", "--build-cache-size", "lots"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--build-cache-size: "lots" is not a size; write a number with a unit/);
  });
});
