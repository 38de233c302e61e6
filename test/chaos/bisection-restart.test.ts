import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { roundBound } from "../../coordinator/watches/bisection-plan.ts";
import type { JobResource, RegressionResource } from "../../protocol/resources.ts";
import { BisectionFixture } from "../helpers/bisection-fixture.ts";
import { localBuildSuite } from "../helpers/fake-cpython.ts";
import { freePort, NatsNode } from "../helpers/nats-servers.ts";
import { ProcessFarm } from "../helpers/process-farm.ts";
import { until } from "../helpers/until.ts";

/**
 * A coordinator process SIGKILLed in the middle of a bisection: the next one reads what the
 * bisection knew from the database, takes the results of the probes that finished meanwhile from
 * the report stream, and carries on to the same culprit, without running a commit twice.
 */
describe("chaos: the coordinator killed mid-bisection", { timeout: 600_000 }, () => {
  const SIZE = 63;
  const CULPRIT = 40;
  let nats: NatsNode;
  let farm: ProcessFarm;
  let fixture: BisectionFixture;

  before(async () => {
    fixture = new BisectionFixture({ size: SIZE, culprit: CULPRIT, broken: 31, holdSeconds: 2 });
    fixture.cpython.git("branch", "--force", "watched", fixture.first.sha);
    farm = new ProcessFarm(8, { suites: { "local-build": localBuildSuite(fixture.testDir) } });
    nats = NatsNode.single(join(farm.dir, "nats"), await freePort());
    await nats.start();
    farm.natsUrls = [nats.url];
    await farm.startCoordinator();
    await farm.startAgent("bisector-1", undefined, ["--allow-local-repos"]);
  });
  after(async () => {
    await farm?.stop();
    await nats?.stop();
    fixture?.remove();
  });

  const regression = async () =>
    ((await farm.api("/regressions?state=all")).body.regressions as RegressionResource[]).find(
      (one) => one.test === "test_hold",
    );
  const watchJob = (commit: string) =>
    until(
      async () =>
        ((await farm.api("/jobs?limit=100")).body.jobs as JobResource[]).find(
          (job) => job.provenance.watch === "chaos" && job.commit === commit && job.status === "passed",
        ),
      `the watch's passed job for ${commit}`,
      180_000,
    );

  it("finds the same culprit after a SIGKILL, probing no commit twice", async () => {
    const added = await farm.api("/watches", {
      name: "chaos",
      repo: fixture.cpython.url,
      branch: "watched",
      suite: "local-build",
      every: "1s",
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    await watchJob(fixture.first.sha);
    const head = fixture.range.at(-1)?.sha as string;
    fixture.cpython.git("branch", "--force", "watched", head);
    await watchJob(head);
    const midway = await until(
      async () => {
        const found = await regression();
        return (found?.bisection?.rounds ?? 0) >= 2 ? found : undefined;
      },
      "a bisection in its second round",
      180_000,
    );
    await farm.killCoordinator();
    assert.equal(midway.bisection?.state, "running", "the coordinator was killed mid-bisection");
    await farm.startCoordinator();

    const ended = await until(
      async () => {
        const found = await regression();
        return found?.bisection && found.bisection.state !== "running" ? found : undefined;
      },
      "the bisection's end after the restart",
      300_000,
    );
    const bisection = ended.bisection;
    assert.equal(bisection?.state, "found", bisection?.summary ?? "");
    assert.equal(bisection?.culprit?.sha, fixture.range[CULPRIT]?.sha);
    assert.ok((bisection?.rounds ?? 99) <= roundBound(SIZE), `${bisection?.rounds} rounds`);
    const probed = (bisection?.probes ?? [])
      .filter((probe) => probe.purpose === "probe")
      .map((probe) => probe.sha);
    assert.equal(new Set(probed).size, probed.length, `a commit probed twice: ${probed.join(" ")}`);
    assert.ok(
      bisection?.probes.every((probe) => probe.verdict !== null),
      "every probe judged",
    );
  });
});
