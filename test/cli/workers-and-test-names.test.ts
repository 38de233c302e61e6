import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobResource } from "../../protocol/resources.ts";
import { runCli } from "../helpers/cli.ts";
import { startFarm, type TestFarm } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";

const GiB = 1024 ** 3;

/**
 * Submits through the CLI to a farm whose one agent has 16 GiB (15 GiB of capacity), and cancels
 * what it queued: these tests are about what submit accepts and reserves, not about the runs.
 */
describe("submit --workers and test names, against a real farm", () => {
  let farm: TestFarm;
  let env: NodeJS.ProcessEnv;
  let python: string;

  before(async () => {
    python = findTestPython();
    farm = await startFarm({ memory: "16G" });
    env = { MEMFARM_URL: farm.url, MEMFARM_TOKEN: farm.token };
  });
  after(async () => {
    await farm?.stop();
  });

  const submit = async (...args: string[]) => {
    const run = await runCli(["submit", ...args, "--json"], env);
    if (run.code === 0) {
      const job = JSON.parse(run.stdout) as JobResource;
      await farm.api(`/jobs/${job.id}/cancel`, { method: "POST" });
      return { run, job };
    }
    return { run, job: null };
  };

  it("by default reserves no more workers than test files asked for (refleak --tests test_list: one)", async () => {
    const { run, job } = await submit("refleak", "--python", python, "--tests", "test_list");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(job?.workers, 1);
    assert.equal(job?.reservationBytes, 2 * GiB + 4 * GiB, "overhead + one worker's 4 GiB, not 18 GiB");
    assert.ok(!job?.args.some((arg) => arg.startsWith("-j")), job?.args.join(" "));
    const two = await submit("refleak", "--python", python, "--tests", "test_list,test_tuple,test_dict");
    assert.equal(two.job?.workers, 3);
    assert.equal(two.job?.reservationBytes, 2 * GiB + 3 * 4 * GiB);
  });

  it("--workers N sets regrtest's -jN and the reservation follows it", async () => {
    const { run, job } = await submit(
      "refleak",
      "--python",
      python,
      "--tests",
      "test_list,test_tuple",
      "--workers",
      "2",
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(job?.workers, 2);
    assert.ok(job?.args.includes("-j2"), job?.args.join(" "));
    assert.equal(job?.reservationBytes, 2 * GiB + 2 * 4 * GiB);
    const shown = await runCli(["show", String(job?.id)], env);
    assert.match(shown.stdout, /^Workers\s+2$/m);
  });

  it("refuses --workers that is not a whole number from 1, naming the field", async () => {
    for (const value of ["0", "two", "1.5"]) {
      const { run } = await submit("refleak", "--python", python, "--workers", value);
      assert.equal(run.code, 2, `--workers ${value}: ${run.stderr}`);
      assert.match(run.stderr, /workers must be a whole number from 1 to 1024/);
    }
  });

  it("a job too big for every agent gets advice that works: fewer workers, with what they need", async () => {
    // The whole refleak suite: four workers of 4 GiB plus 2 GiB, 18 GiB, on an agent offering 15 GiB.
    const { run } = await submit("refleak", "--python", python);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /needs 18\.0 GiB but the largest/);
    const advice =
      /ask for fewer workers with --workers (\d+) \(needs ([\d.]+) GiB, which fits test-agent\)/.exec(
        run.stderr,
      );
    assert.ok(advice, run.stderr);
    assert.ok(!run.stderr.includes("ask for less memory"));
    // Following the advice gets the job accepted.
    const followed = await submit("refleak", "--python", python, "--workers", advice[1] ?? "");
    assert.equal(followed.run.code, 0, followed.run.stderr);
    assert.equal(followed.job?.reservationBytes, Number(advice[2]) * GiB);
  });

  it("a job whose memlimit is too big gets the memlimit that fits", async () => {
    const { run } = await submit("bigmem-smoke", "--python", python, "--memlimit", "40G");
    assert.equal(run.code, 2);
    const advice = /ask for a smaller memory limit with --memlimit (\d+G) \(needs/.exec(run.stderr);
    assert.ok(advice, run.stderr);
    const followed = await submit("bigmem-smoke", "--python", python, "--memlimit", advice[1] ?? "");
    assert.equal(followed.run.code, 0, followed.run.stderr);
  });

  it("refuses a test the interpreter does not have, naming it and the nearest known name", async () => {
    const { run } = await submit("bigmem-smoke", "--python", python, "--tests", "test_bigmem,test_bigmen");
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      new RegExp(`${python} has no test named test_bigmen; did you mean test_bigmem\\?`),
    );
    // Real names pass, also as a package's module and with the test. prefix regrtest accepts.
    const known = await submit(
      "bigmem-smoke",
      "--python",
      python,
      "--tests",
      "test_bigmem,test.test_list,test_json.test_dump",
    );
    assert.equal(known.run.code, 0, known.run.stderr);
  });
});
