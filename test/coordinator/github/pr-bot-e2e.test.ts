import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobResource } from "../../../protocol/resources.ts";
import { finished } from "../../helpers/farm.ts";
import { type BotFixture, pushPullRequest, SECRET, startBotFixture } from "./fixtures.ts";
import { commentPayload, deliver, labeledPayload, signedDelivery } from "./webhook-payloads.ts";

/**
 * The bot end to end with a real coordinator, agent and regrtest job. GitHub's
 * REST API cannot run here: a local stand-in answers the bot's calls as GitHub
 * documents them and records them (test/github/github-stand-in.ts).
 */
describe("the pull-request bot, from a comment to the results on the PR", () => {
  let fx: BotFixture;
  before(async () => {
    fx = await startBotFixture();
    fx.github.roles.set("maintainer", "write");
  });
  after(async () => {
    await fx?.stop();
  });

  it("reacts, opens a check run, runs the PR's head and completes it with the memory table and a comment", async (t) => {
    const { farm, github, cpython, repo } = fx;
    const base = await farm.waitFor(
      (await farm.submit({ suite: "local-build", ref: "main", repo: cpython.url })).id,
      finished,
    );
    assert.equal(base.status, "passed", base.error ?? "");
    const head = pushPullRequest(cpython, 1, 200);
    github.pulls.set(1, { headSha: head, baseRef: "main" });

    const payload = commentPayload(repo, {
      body: "!memfarm local-build --memlimit 2G\nthanks!",
      user: "maintainer",
    });
    const sentAt = Date.now();
    const answer = await deliver(farm.url, signedDelivery("issue_comment", payload, SECRET));
    assert.equal(answer.status, 202);

    const reaction = await github.waitForCall(
      /^POST \/repos\/python\/cpython\/issues\/comments\/\d+\/reactions$/,
    );
    assert.equal(reaction.body.content, "eyes");
    const created = await github.waitForCall(/^POST \/repos\/python\/cpython\/check-runs$/);
    t.diagnostic(`comment -> check run in progress: ${created.at - sentAt} ms on loopback`);
    assert.equal(created.body.name, "memfarm / local-build");
    assert.equal(created.body.head_sha, head);
    assert.equal(created.body.status, "in_progress");
    assert.match(String(created.body.details_url), /\/jobs\/\d+$/);

    const jobId = Number(String(created.body.details_url).split("/").at(-1));
    const job: JobResource = await farm.waitFor(jobId, finished);
    assert.equal(job.status, "passed", job.error ?? "");
    assert.equal(job.ref, "pull/1/head");
    assert.equal(job.commit, head, "the job ran the PR's head commit");
    assert.equal(job.provenance.source, "github");
    assert.equal(job.provenance.requester, "github:maintainer");
    assert.deepEqual(
      { ...job.provenance.pullRequest },
      {
        repository: "python/cpython",
        number: 1,
        url: "https://github.com/python/cpython/pull/1",
        headSha: head,
        baseRef: "main",
        commentUrl: payload.comment.html_url,
      },
    );

    const completed = await github.waitForCall(/^PATCH \/repos\/python\/cpython\/check-runs\/\d+$/);
    assert.equal(completed.body.status, "completed");
    assert.equal(completed.body.conclusion, "success");
    const output = completed.body.output as { title: string; summary: string };
    assert.match(output.summary, /\*\*Outcome:\*\* passed/);
    assert.match(output.summary, /True peak memory/);
    assert.match(output.summary, /### Tests by peak memory/);
    assert.match(output.summary, new RegExp(`since job #${base.id}`));
    assert.match(output.summary, /test_allocates.*\+\d+%/, "the test that allocates more is listed as grown");

    const comment = await github.waitForCall(/^POST \/repos\/python\/cpython\/issues\/1\/comments$/);
    assert.match(String(comment.body.body), /memfarm \/ local-build/);
    assert.match(
      String(comment.body.body),
      new RegExp(`\\[Job #${jobId}\\]\\(http://127\\.0\\.0\\.1:\\d+/jobs/${jobId}\\)`),
    );

    const byPr = await farm.api("/jobs?repository=python/cpython&pr=1");
    assert.deepEqual(
      byPr.body.jobs.map((j: JobResource) => j.id),
      [jobId],
    );
    const page = await fetch(`${farm.url}/jobs/${jobId}`);
    assert.match(
      await page.text(),
      /href="https:\/\/github.com\/python\/cpython\/pull\/1">python\/cpython#1</,
    );
  });

  it("runs on a `memfarm: SUITE` label and removes the label once the job is queued", async () => {
    const { farm, github, cpython, repo } = fx;
    const head = pushPullRequest(cpython, 2, 30);
    github.pulls.set(2, { headSha: head, baseRef: "main" });
    const payload = labeledPayload(repo, {
      label: "memfarm: local-build",
      user: "maintainer",
      pr: 2,
      headSha: head,
    });
    assert.equal((await deliver(farm.url, signedDelivery("pull_request", payload, SECRET))).status, 202);
    await github.waitForCall(/^DELETE \/repos\/python\/cpython\/issues\/2\/labels\/memfarm: local-build$/);
    const created = await github.waitForCall(/^POST \/repos\/python\/cpython\/check-runs$/, 60_000, 2);
    assert.equal(created.body.head_sha, head);
    const jobs = (await farm.api("/jobs?repository=python/cpython&pr=2")).body.jobs as JobResource[];
    assert.equal(jobs.length, 1);
    await farm.waitFor((jobs[0] as JobResource).id, finished);
    await github.waitForCall(/^POST \/repos\/python\/cpython\/issues\/2\/comments$/);
  });
});
