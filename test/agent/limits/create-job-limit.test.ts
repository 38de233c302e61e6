import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { defaultV2Root, detectCgroupSupport } from "../../../agent/limits/cgroup-support.ts";
import { createJobLimit } from "../../../agent/limits/create-job-limit.ts";
import { fakeV2Root, MiB, removeDir } from "./helpers.ts";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) removeDir(dir);
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-limits-"));
  dirs.push(dir);
  return dir;
}

describe("createJobLimit", () => {
  it("refuses names that are not a plain directory name", async () => {
    for (const name of ["", "..", "../etc", "a/b", "job 1", "job.1", "job;rm", "x".repeat(129)]) {
      await assert.rejects(
        createJobLimit({ name, limitBytes: MiB, mode: "watchdog" }),
        (error: { code?: string }) => error.code === "invalid_limit_name",
        name,
      );
    }
  });

  it("refuses a limit that is not a positive whole number of bytes", async () => {
    for (const limitBytes of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(
        createJobLimit({ name: "job-1-1", limitBytes, mode: "watchdog" }),
        (error: { code?: string }) => error.code === "invalid_limit",
      );
    }
  });

  it("falls back to the watchdog in auto mode when no cgroup can be made, and makes nothing", async () => {
    const v2Root = fakeV2Root({ "cgroup.controllers": "cpu pids\n" });
    dirs.push(v2Root);
    const notCgroup = tempDir();
    const limit = await createJobLimit({
      name: "job-1-1",
      limitBytes: 64 * MiB,
      v2Root,
      v1Root: join(notCgroup, "memfarm"),
    });
    try {
      assert.equal(limit.kind, "watchdog");
      assert.equal(existsSync(join(v2Root, "job-1-1")), false);
      assert.equal(existsSync(join(notCgroup, "memfarm")), false);
    } finally {
      await limit.dispose();
    }
  });

  it("throws in a forced mode that cannot work here, saying why", async () => {
    const notCgroup = tempDir();
    await assert.rejects(
      createJobLimit({ name: "job-1-1", limitBytes: MiB, mode: "v1", v1Root: join(notCgroup, "memfarm") }),
      /no cgroup v1 memory controller at/,
    );
    assert.equal(existsSync(join(notCgroup, "memfarm")), false);
    const support = await detectCgroupSupport();
    if (support.v2 === null) {
      const root = await defaultV2Root();
      const existed = root !== null && existsSync(root);
      await assert.rejects(createJobLimit({ name: "job-1-1", limitBytes: MiB, mode: "v2" }), /cgroup v2: /);
      assert.equal(root !== null && existsSync(root), existed);
    }
  });
});

describe("detectCgroupSupport", () => {
  it("names a place for job cgroups or says why there is none", async (t) => {
    const support = await detectCgroupSupport();
    t.diagnostic(JSON.stringify(support));
    if (support.v2 === null) assert.match(support.reason, /cgroup v2: /);
    if (support.v1 === null) assert.match(support.reason, /cgroup v1: /);
    if (support.v2 !== null && support.v1 !== null) assert.equal(support.reason, "");
  });
});
