import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { detectCgroupSupport } from "../../agent/limits/index.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";

/** A fake `--python`: the probe goes to the real python3; as regrtest it records its memory cgroup. */
function fakePython(cgroupFile: string): string {
  return `#!/bin/sh
if [ "$1" = "-E" ]; then exec /usr/bin/python3 -E -c "import sys, test.libregrtest; print(sys.version.split()[0])"; fi
grep -E '^[0-9]+:(memory)?:' /proc/self/cgroup > '${cgroupFile}'
echo "== Tests result: SUCCESS =="
`;
}

describe("an agent's job cgroups are made before the jobs and removed at its stop", () => {
  let farm: TestFarm | undefined;
  let dir: string;
  let root: string | null = null;
  let skip: string | false = false;
  const agentName = `prepared-${process.pid}`;
  const ready = () =>
    root !== null && existsSync(root)
      ? readdirSync(root).filter((name) => name.startsWith(`ready-${agentName}-`))
      : [];

  before(async () => {
    const support = await detectCgroupSupport();
    root = support.v2 ?? support.v1;
    if (root === null) {
      skip = `no cgroup can limit memory here: ${support.reason}`;
      return;
    }
    dir = mkdtempSync(join(tmpdir(), "memfarm-prepared-cgroups-"));
    const quick = {
      description: "one quick fake test",
      args: [],
      workers: 1,
      memlimit: "2G",
      reservation: { perWorker: "100M", overhead: "100M" },
      timeoutSeconds: 60,
    };
    farm = await startFarm({ jobsDir: makeJobsDir({ quick }), agentName });
  });
  after(async () => {
    await farm?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs a job in a group that was ready before it, prepares the next, and leaves none at stop", async (t) => {
    if (skip || farm === undefined) return t.skip(skip || "no farm");
    const before = ready();
    assert.ok(before.length > 0, "groups are ready before any job");
    const python = join(dir, "python");
    const cgroupFile = join(dir, "cgroup");
    writeFileSync(python, fakePython(cgroupFile));
    chmodSync(python, 0o755);
    const job = await farm.waitFor(
      (await farm.submit({ suite: "quick", python, tests: ["test_x"] })).id,
      finished,
    );
    assert.equal(job.status, "passed", job.error ?? "");
    assert.match(job.limitKind ?? "", /^cgroup-v[12]$/);
    const after = ready();
    assert.ok(!after.includes(before[0] as string), "the first ready group was taken by the job");
    assert.equal(after.length, before.length, "and replaced");
    const ran = readFileSync(cgroupFile, "utf8");
    // v1 renames the group for the attempt. It keeps the prepared name when the name is taken:
    // another farm on this machine (a test run beside this one) shares the cgroup root.
    const group = /^\d+:memory:.*\/([^/\n]+)$/m.exec(ran)?.[1] ?? "";
    assert.ok(
      group === `attempt-${job.id}-1` || before.includes(group),
      `the job ran in a prepared group: ${ran}`,
    );
    await farm.stop();
    farm = undefined;
    assert.deepEqual(ready(), [], "no prepared group is left once the agent stopped");
  });
});
