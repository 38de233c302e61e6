import { roundBound } from "../coordinator/watches/bisection-plan.ts";
import type { JobResource, RegressionResource } from "../protocol/resources.ts";
import { BisectionFixture } from "../test/helpers/bisection-fixture.ts";
import { localBuildSuite } from "../test/helpers/fake-cpython.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../test/helpers/farm.ts";
import { machineLine, printTable, sleep } from "./agent-bench-util.ts";

/**
 * Detection to culprit: a watch sees its branch jump 63 commits (the 64-commit fixture: one
 * commit grows test_hold from 40 to 300 MiB, one does not build), opens a memory regression, and
 * the farm bisects it on its own. For 1, 2 and 4 agents and a few culprit positions: the time
 * from the regression being opened to the culprit being named, the rounds and jobs it took,
 * against log2 of the range and the bound (ceil(log2(range)) + 2 rounds).
 *
 *   npm run build && node dist/bench/bisection.js [agents=1,2,4] [culprits=12,40,60]
 */
const AGENTS = (process.argv[2] ?? "1,2,4").split(",").map(Number);
const CULPRITS = (process.argv[3] ?? "12,40,60").split(",").map(Number);
const SIZE = 63;
const BROKEN = 31;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 900_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function watchJob(farm: TestFarm, commit: string): Promise<JobResource> {
  const job = await until(`job for ${commit}`, async () =>
    ((await farm.api("/jobs?limit=100")).body.jobs as JobResource[]).find(
      (one) => one.provenance.watch === "bench" && one.commit === commit,
    ),
  );
  return farm.waitFor(job.id, finished, 600_000);
}

async function bisectOnce(agents: number, culprit: number) {
  const fixture = new BisectionFixture({ size: SIZE, culprit, broken: BROKEN });
  fixture.cpython.git("branch", "--force", "watched", fixture.first.sha);
  const farm = await startFarm({
    allowLocalRepos: true,
    agents,
    jobsDir: makeJobsDir({ "local-build": localBuildSuite(fixture.testDir) }),
  });
  try {
    const added = await farm.api("/watches", {
      body: {
        name: "bench",
        repo: fixture.cpython.url,
        branch: "watched",
        suite: "local-build",
        every: "1s",
      },
    });
    if (added.status !== 201) throw new Error(JSON.stringify(added.body));
    await watchJob(farm, fixture.first.sha);
    const head = fixture.range.at(-1)?.sha as string;
    fixture.cpython.git("branch", "--force", "watched", head);
    await watchJob(farm, head);
    const ended = await until("bisection", async () => {
      const { regressions } = (await farm.api("/regressions?state=all")).body as {
        regressions: RegressionResource[];
      };
      const found = regressions.find((one) => one.test === "test_hold");
      return found?.bisection && found.bisection.state !== "running" ? found : undefined;
    });
    const bisection = ended.bisection;
    if (!bisection) throw new Error("no bisection");
    const right = bisection.culprit?.sha === fixture.range[culprit]?.sha;
    const seconds = (Date.parse(bisection.finishedAt ?? "") - Date.parse(ended.openedAt)) / 1000;
    return { bisection, right, seconds };
  } finally {
    await farm.stop();
    fixture.remove();
  }
}

console.log(machineLine());
console.log(
  `range: ${SIZE} commits (log2 = ${Math.log2(SIZE).toFixed(2)}; bound ${roundBound(SIZE)} rounds), commit ${BROKEN + 1} does not build\n`,
);
const rows: string[][] = [];
for (const agents of AGENTS) {
  for (const culprit of CULPRITS) {
    const { bisection, right, seconds } = await bisectOnce(agents, culprit);
    const skipped = bisection.probes.filter((probe) => probe.verdict === "skip").length;
    rows.push([
      String(agents),
      String(culprit + 1),
      bisection.state + (right ? "" : " (WRONG culprit)"),
      `${seconds.toFixed(1)} s`,
      String(bisection.rounds),
      String(bisection.probes.length),
      String(skipped),
    ]);
    console.log(rows.at(-1)?.join("  "));
  }
}
console.log("");
printTable(["agents", "culprit (n of 63)", "result", "opened → culprit", "rounds", "jobs", "skipped"], rows);
