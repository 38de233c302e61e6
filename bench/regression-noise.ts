import type { JobResource, RegressionResource, WatchRunResource } from "../protocol/resources.ts";
import { FakeCpython } from "../test/helpers/fake-cpython.ts";
import { finished, makeJobsDir, startFarm } from "../test/helpers/farm.ts";
import { machineLine, printTable } from "./agent-bench-util.ts";

/**
 * Regression noise: how often a watch opens a regression when nothing changed. A watched branch
 * gets N commits that touch only a NEWS file (the code under test is the same), each run by a real
 * agent on real CPython tests (the stdlib's, through the fake CPython's launcher); every regression
 * opened is a false alarm. Also reports each test's peak spread over the runs.
 *
 *   npm run build && node dist/bench/regression-noise.js [commits=20] [tests=test_bool,test_list,test_json]
 */
const COMMITS = Number(process.argv[2] ?? 20);
const TESTS = (process.argv[3] ?? "test_bool,test_list,test_json").split(",");
const MiB = 1024 * 1024;

const cpython = new FakeCpython();
const farm = await startFarm({
  allowLocalRepos: true,
  jobsDir: makeJobsDir({
    stdlib: {
      description: "the stdlib's own tests through the fake CPython build",
      args: ["-v"],
      workers: 1,
      memlimit: "2G",
      timeoutSeconds: 600,
      build: { configureFlags: ["--with-pydebug"] },
    },
  }),
});
try {
  const added = await farm.api("/watches", {
    body: { name: "noise", repo: cpython.url, branch: "main", suite: "stdlib", tests: TESTS, every: "1s" },
  });
  if (added.status !== 201) throw new Error(JSON.stringify(added.body));
  const seen = new Set<number>();
  for (let commit = 0; commit < COMMITS; commit += 1) {
    if (commit > 0) {
      cpython.write("NEWS", `entry ${commit}\n`);
      cpython.commit(`NEWS entry ${commit}`);
    }
    const sha = cpython.revParse("main");
    for (;;) {
      const jobs = (await farm.api("/jobs?limit=100")).body.jobs as JobResource[];
      const job = jobs.find((one) => one.provenance.watch === "noise" && one.commit === sha);
      if (job && !seen.has(job.id)) {
        seen.add(job.id);
        await farm.waitFor(job.id, finished, 600_000);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const regressions = (await farm.api("/regressions?state=all")).body.regressions as RegressionResource[];
  const rows = [];
  for (const test of TESTS) {
    const runs = (await farm.api(`/watches/noise/history?test=${test}&limit=${COMMITS}`)).body
      .runs as WatchRunResource[];
    const peaks = runs.flatMap((run) => (run.peakRssBytes === null ? [] : [run.peakRssBytes / MiB]));
    const least = Math.min(...peaks);
    const most = Math.max(...peaks);
    rows.push([
      test,
      String(peaks.length),
      `${least.toFixed(1)}–${most.toFixed(1)} MiB`,
      `${(((most - least) / least) * 100).toFixed(1)} %`,
      String(regressions.filter((regression) => regression.test === test).length),
    ]);
  }
  console.log(machineLine());
  console.log(`regression noise: ${COMMITS} commits of unchanged code, tests ${TESTS.join(", ")}`);
  printTable(["test", "runs", "peak range", "spread", "regressions opened (false alarms)"], rows);
  console.log(`false-alarm rate: ${regressions.length} of ${COMMITS * TESTS.length} test runs`);
} finally {
  await farm.stop();
  cpython.remove();
}
