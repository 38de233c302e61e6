import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobResource, RegressionResource } from "../../../protocol/resources.ts";
import { BisectionFixture } from "../../helpers/bisection-fixture.ts";
import { localBuildSuite } from "../../helpers/fake-cpython.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../../helpers/farm.ts";
import { until } from "../../helpers/until.ts";
import { SECRET } from "./fixtures.ts";
import { GithubStandIn } from "./github-stand-in.ts";

const REPO_URL = "https://github.com/python/cpython";

/**
 * A watch of GitHub's python/cpython that asked for culprit comments: when its regression is
 * bisected, the culprit's pull request is found with GET /repos/{o}/{r}/commits/{sha}/pulls and
 * told. GitHub's REST API cannot run here: a local stand-in answers as GitHub documents it
 * (github-stand-in.ts). The repository's URL is GitHub's, as in production; git is pointed at
 * the local fixture for that URL (url.insteadOf, through git's GIT_CONFIG_* environment).
 */
describe("a bisection's culprit told on its pull request", { timeout: 600_000 }, () => {
  let farm: TestFarm;
  let github: GithubStandIn;
  let fixture: BisectionFixture;
  const savedEnv = { ...process.env };

  before(async () => {
    fixture = new BisectionFixture({ size: 4, culprit: 2, broken: -1 });
    fixture.cpython.git("branch", "--force", "watched", fixture.first.sha);
    Object.assign(process.env, {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: `url.${fixture.cpython.url}.insteadOf`,
      GIT_CONFIG_VALUE_0: REPO_URL,
    });
    github = new GithubStandIn();
    await github.start();
    farm = await startFarm({
      allowLocalRepos: true,
      jobsDir: makeJobsDir({ "local-build": localBuildSuite(fixture.testDir) }),
      github: {
        webhookSecret: SECRET,
        apiUrl: github.url,
        token: "ghp_stand-in-token",
        repos: "python/cpython",
      },
    });
  });
  after(async () => {
    await farm?.stop();
    await github?.stop();
    fixture?.remove();
    process.env = savedEnv;
  });

  const watchJob = async (commit: string) => {
    const job = await until(
      async () =>
        ((await farm.api("/jobs?limit=50")).body.jobs as JobResource[]).find(
          (one) => one.provenance.watch === "main" && one.commit === commit,
        ),
      `the watch's job for ${commit}`,
      120_000,
    );
    return farm.waitFor(job.id, finished);
  };

  it("comments on the culprit's pull request with the figures and links back", async () => {
    const culprit = fixture.range[2]?.sha as string;
    github.commitPulls.set(culprit, 4242);
    const added = await farm.api("/watches", {
      body: {
        name: "main",
        repo: REPO_URL,
        branch: "watched",
        suite: "local-build",
        every: "1s",
        commentOnCulprit: true,
      },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.commentOnCulprit, true);
    await watchJob(fixture.first.sha);
    const head = fixture.range.at(-1)?.sha as string;
    fixture.cpython.git("branch", "--force", "watched", head);
    await watchJob(head);

    const lookup = await github.waitForCall(
      /^GET \/repos\/python\/cpython\/commits\/[0-9a-f]{40}\/pulls$/,
      300_000,
    );
    assert.equal(lookup.path, `/repos/python/cpython/commits/${culprit}/pulls`);
    const comment = await github.waitForCall(/^POST \/repos\/python\/cpython\/issues\/4242\/comments$/);
    const body = String(comment.body.body);
    assert.match(body, new RegExp(`to this pull request's commit \`${culprit.slice(0, 12)}\``));
    assert.match(body, /test_hold's peak grew/);
    assert.match(body, new RegExp(`\\]\\(${farm.url}/regressions/\\d+\\)`));
    assert.match(body, new RegExp(`\\[#\\d+\\]\\(${farm.url}/jobs/\\d+\\)`));

    const regression = await until(
      async () => {
        const { regressions } = (await farm.api("/regressions?state=all")).body as {
          regressions: RegressionResource[];
        };
        return regressions.find((one) => one.bisection?.commentUrl);
      },
      "the comment's URL on the bisection",
      30_000,
    );
    assert.equal(regression.bisection?.culprit?.sha, culprit);
    assert.match(regression.bisection?.commentUrl ?? "", /\/pull\/4242#issuecomment-\d+$/);
    assert.equal(github.callsTo(/issues\/\d+\/comments$/).length, 1, "told once");
  });
});
