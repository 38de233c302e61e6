import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Coordinator } from "../../../coordinator/coordinator.ts";
import { silentLogger } from "../../../protocol/logger.ts";
import type { JobResource } from "../../../protocol/resources.ts";
import { finished } from "../../helpers/farm.ts";
import { type BotFixture, pushPullRequest, SECRET, startBotFixture } from "./fixtures.ts";
import { commentPayload, deliver, signedDelivery } from "./webhook-payloads.ts";

/**
 * Feedback to GitHub survives GitHub being down and the coordinator being
 * restarted. GitHub's REST API is a local stand-in that can answer 5xx
 * (github-stand-in.ts); the bot reaches it only through the configured API URL.
 */
describe("the pull-request bot's feedback is durable", () => {
  let fx: BotFixture;
  let restarted: Coordinator | null = null;
  before(async () => {
    fx = await startBotFixture();
    fx.github.roles.set("maintainer", "admin");
  });
  after(async () => {
    await restarted?.stop();
    await fx?.stop();
  });

  it("creates the check run once GitHub answers again", async () => {
    const head = pushPullRequest(fx.cpython, 20, 20);
    fx.github.pulls.set(20, { headSha: head, baseRef: "main" });
    fx.github.failNext(/^POST \/repos\/python\/cpython\/check-runs$/, 502, 2);
    const payload = commentPayload(fx.repo, { body: "!memfarm local-build", user: "maintainer", pr: 20 });
    assert.equal((await deliver(fx.farm.url, signedDelivery("issue_comment", payload, SECRET))).status, 202);
    const created = await fx.github.waitForCall(/^POST \/repos\/python\/cpython\/check-runs$/, 60_000, 3);
    assert.equal(created.body.head_sha, head);
    const [job] = (await fx.farm.api("/jobs?repository=python/cpython&pr=20")).body.jobs as JobResource[];
    assert.ok(job);
    await fx.farm.waitFor(job.id, finished);
    await fx.github.waitForCall(/^POST \/repos\/python\/cpython\/issues\/20\/comments$/, 60_000);
  });

  it("completes the check run after a restart when GitHub was down as the job ended", async () => {
    const head = pushPullRequest(fx.cpython, 21, 20);
    fx.github.pulls.set(21, { headSha: head, baseRef: "main" });
    fx.github.failNext(/^PATCH \/repos\/python\/cpython\/check-runs\/\d+$/, 503, 1_000_000);
    const payload = commentPayload(fx.repo, { body: "!memfarm local-build", user: "maintainer", pr: 21 });
    assert.equal((await deliver(fx.farm.url, signedDelivery("issue_comment", payload, SECRET))).status, 202);
    await fx.github.waitForCall(
      /^POST \/repos\/python\/cpython\/check-runs$/,
      60_000,
      1,
      (call) => call.body.head_sha === head,
    );
    const [job] = (await fx.farm.api("/jobs?repository=python/cpython&pr=21")).body.jobs as JobResource[];
    assert.ok(job);
    await fx.farm.waitFor(job.id, finished);
    await fx.github.waitForCall(/^PATCH /, 60_000);
    await fx.farm.agent.stop();
    await fx.farm.coordinator.stop();

    fx.github.clearFailures();
    const patchesBefore = fx.github.callsTo(/^PATCH /).length;
    restarted = await Coordinator.start(fx.farm.coordinator.config, silentLogger);
    const completed = await fx.github.waitForCall(/^PATCH /, 60_000, patchesBefore + 1);
    assert.equal(completed.body.status, "completed");
    assert.equal(
      completed.body.details_url,
      `${fx.farm.coordinator.config.github?.publicUrl ?? restarted.httpUrl}/jobs/${job.id}`,
    );
    await fx.github.waitForCall(/^POST \/repos\/python\/cpython\/issues\/21\/comments$/, 60_000);
  });
});
