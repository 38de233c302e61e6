import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { detectCgroupSupport } from "../../agent/limits/index.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";

const MiB = 1024 * 1024;
const RUNS = 10;

/**
 * A fake `--python`: it answers the agent's probe with the real python3 (its version, and no list of
 * Lib/test, whose tests are not this fake's); run as regrtest, its one
 * test forks a child as its very first instruction, and the child touches 1 GiB. Were the child
 * outside the job's cgroup, the job would pass with 1 GiB under a 200 MiB limit.
 */
const FAKE_PYTHON = `#!/bin/sh
if [ "$1" = "-E" ]; then exec /usr/bin/python3 -E -c "import sys, test.libregrtest; print(sys.version.split()[0])"; fi
/usr/bin/python3 -c "import time; block = b'x' * (1 << 30); time.sleep(0.3)" &
echo "0:00:00 load avg: 0.00 [1/1] test_fork_hog"
wait $!
echo "test_fork_hog passed"
echo "== Tests result: SUCCESS =="
`;

describe("a job's whole process tree is under its limit from the first instruction", () => {
  let farm: TestFarm;
  let dir: string;
  let python: string;
  let skip: string | false = false;
  before(async () => {
    const support = await detectCgroupSupport();
    if (support.v1 === null && support.v2 === null) {
      skip = `no cgroup can limit memory here: ${support.reason}`;
      return;
    }
    dir = mkdtempSync(join(tmpdir(), "memfarm-fork-at-once-"));
    python = join(dir, "python");
    writeFileSync(python, FAKE_PYTHON);
    chmodSync(python, 0o755);
    // 100 MiB per worker plus 100 MiB: a 200 MiB limit.
    const forker = {
      description: "a test that forks at once",
      args: [],
      workers: 1,
      memlimit: "2G",
      reservation: { perWorker: "100M", overhead: "100M" },
      timeoutSeconds: 120,
    };
    farm = await startFarm({ jobsDir: makeJobsDir({ forker }) });
  });
  after(async () => {
    await farm?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`ends as oom every time a child forked at once allocates past the limit (${RUNS} runs)`, async (t) => {
    if (skip) return t.skip(skip);
    const statuses: string[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const job = await farm.waitFor(
        (await farm.submit({ suite: "forker", python, tests: ["test_fork_hog"] })).id,
        finished,
      );
      assert.equal(job.limitBytes, 200 * MiB);
      assert.match(job.limitKind ?? "", /^cgroup-v[12]$/);
      statuses.push(`${job.status} (peak ${Math.round((job.peakRssBytes ?? 0) / MiB)} MiB)`);
    }
    t.diagnostic(statuses.join(", "));
    const escaped = statuses.filter((status) => !status.startsWith("oom"));
    assert.equal(escaped.length, 0, `${escaped.length} of ${RUNS} jobs escaped: ${statuses.join(", ")}`);
  });
});
