import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobResource } from "../../../protocol/resources.ts";
import { finished } from "../../helpers/farm.ts";
import { type BotFixture, pushPullRequest, SECRET, startBotFixture } from "./fixtures.ts";
import { commentPayload, deliver, signedDelivery } from "./webhook-payloads.ts";

/**
 * What the bot does with deliveries and comments it must not act on. GitHub's
 * REST API is a local stand-in that records every call (github-stand-in.ts).
 */
describe("the pull-request bot refuses what it must not run", () => {
  let fx: BotFixture;
  let head: string;
  before(async () => {
    fx = await startBotFixture();
    fx.github.roles.set("maintainer", "maintain");
    fx.github.roles.set("reader", "read");
    head = pushPullRequest(fx.cpython, 7, 20);
    fx.github.pulls.set(7, { headSha: head, baseRef: "main" });
    fx.github.pulls.set(8, { headSha: head, baseRef: "main", headRepo: "someone/cpython-fork" });
  });
  after(async () => {
    await fx?.stop();
  });

  const jobsOfPr = async (pr: number) =>
    (await fx.farm.api(`/jobs?repository=python/cpython&pr=${pr}`)).body.jobs as JobResource[];
  const settled = () =>
    (fx.farm.coordinator.github as NonNullable<typeof fx.farm.coordinator.github>).settled();
  /** Sends a comment and returns the replies the bot posted on the PR because of it. */
  const commentAndReplies = async (body: string, user = "maintainer", pr = 7) => {
    const before = fx.github.callsTo(new RegExp(`^POST /repos/python/cpython/issues/${pr}/comments$`)).length;
    const answer = await deliver(
      fx.farm.url,
      signedDelivery("issue_comment", commentPayload(fx.repo, { body, user, pr }), SECRET),
    );
    assert.equal(answer.status, 202, answer.body);
    await settled();
    return fx.github
      .callsTo(new RegExp(`^POST /repos/python/cpython/issues/${pr}/comments$`))
      .slice(before)
      .map((call) => String(call.body.body));
  };

  it("answers 401 to missing and forged signatures, and queues nothing", async () => {
    const calls = fx.github.calls.length;
    const good = signedDelivery(
      "issue_comment",
      commentPayload(fx.repo, { body: "!memfarm local-build", user: "maintainer", pr: 7 }),
      SECRET,
    );
    const unsigned = { ...good, headers: { ...good.headers } };
    delete unsigned.headers["x-hub-signature-256"];
    assert.equal((await deliver(fx.farm.url, unsigned)).status, 401);
    const forged = signedDelivery("issue_comment", JSON.parse(good.body), "not-the-secret-at-all");
    assert.equal((await deliver(fx.farm.url, forged)).status, 401);
    const tampered = { ...good, body: good.body.replace("!memfarm local-build", "!memfarm bigmem-smoke") };
    assert.equal((await deliver(fx.farm.url, tampered)).status, 401);
    const garbage = { ...good, headers: { ...good.headers, "x-hub-signature-256": "sha256=zz" } };
    assert.equal((await deliver(fx.farm.url, garbage)).status, 401);
    await settled();
    assert.equal(fx.github.calls.length, calls, "no GitHub call for an unverified delivery");
    assert.equal((await jobsOfPr(7)).length, 0);
  });

  it("refuses a huge payload with 413 before reading it", async () => {
    const huge = commentPayload(fx.repo, {
      body: `!memfarm local-build\n${"x".repeat(2 * 1024 * 1024)}`,
      user: "maintainer",
      pr: 7,
    });
    const answer = await deliver(fx.farm.url, signedDelivery("issue_comment", huge, SECRET));
    assert.equal(answer.status, 413);
    assert.equal((await jobsOfPr(7)).length, 0);
  });

  it("handles a redelivered delivery once", async () => {
    const delivery = signedDelivery(
      "issue_comment",
      commentPayload(fx.repo, {
        body: "!memfarm local-build --tests test_memory",
        user: "maintainer",
        pr: 7,
      }),
      SECRET,
    );
    assert.equal((await deliver(fx.farm.url, delivery)).status, 202);
    const again = await deliver(fx.farm.url, delivery);
    assert.equal(again.status, 200);
    assert.deepEqual(JSON.parse(again.body), { duplicate: true });
    await settled();
    const jobs = await jobsOfPr(7);
    assert.equal(jobs.length, 1);
    assert.deepEqual((jobs[0] as JobResource).tests, ["test_memory"]);
    await fx.farm.waitFor((jobs[0] as JobResource).id, finished);
  });

  it("tells someone without write permission who can, and queues nothing", async () => {
    for (const user of ["reader", "drive-by"]) {
      const replies = await commentAndReplies("!memfarm local-build", user, 9);
      assert.equal(replies.length, 1, user);
      assert.match(replies[0] as string, new RegExp(`@${user}.*write, maintain or admin permission`));
    }
    assert.equal((await jobsOfPr(9)).length, 0);
  });

  it("replies what was wrong with shell words, git options, unknown suites and absurd sizes", async () => {
    const cases: [string, RegExp][] = [
      ["!memfarm local-build --tests test_x;touch$IFS/tmp/pwned", /not a regrtest test name/],
      ["!memfarm local-build --tests $(id)", /not a regrtest test name/],
      ["!memfarm local-build --upload-pack=touch", /is not an option/],
      ["!memfarm --exec=sh", /is not a suite/],
      ["!memfarm `id`", /is not a suite/],
      ["!memfarm nosuch", /no suite 'nosuch'|no suite `nosuch`/],
      ["!memfarm local-build --memlimit 1G", /under 2 GiB/],
      ["!memfarm local-build --memlimit 4096T", /more than the largest host of this farm/],
      ["!memfarm local-build --memlimit", /needs a value/],
    ];
    for (const [body, expected] of cases) {
      const replies = await commentAndReplies(body, "maintainer", 10);
      assert.equal(replies.length, 1, body);
      assert.match(replies[0] as string, expected, body);
    }
    assert.equal((await jobsOfPr(10)).length, 0);
    assert.equal((await fx.farm.api("/healthz")).status, 200, "the coordinator keeps running");
  });

  it("answers help, and cancels the PR's jobs on cancel", async () => {
    const help = await commentAndReplies("!memfarm help", "drive-by", 11);
    assert.match(help[0] as string, /!memfarm cancel/);
    fx.cpython.write("SLOW_MAKE", "");
    const slowHead = fx.cpython.commit("slow build");
    fx.cpython.git("update-ref", "refs/pull/11/head", slowHead);
    fx.github.pulls.set(11, { headSha: slowHead, baseRef: "main" });
    await commentAndReplies("!memfarm local-build", "maintainer", 11);
    const [job] = await jobsOfPr(11);
    assert.ok(job);
    const replies = await commentAndReplies("!memfarm cancel", "maintainer", 11);
    assert.match(replies[0] as string, new RegExp(`Canceled #${job.id}`));
    assert.equal((await fx.farm.waitFor(job.id, finished)).status, "canceled");
    const completed = await fx.github.waitForCall(
      /^PATCH \/repos\/python\/cpython\/check-runs\/\d+$/,
      60_000,
      1,
      (call) => call.body.details_url === `${fx.farm.url}/jobs/${job.id}`,
    );
    assert.equal(completed.body.conclusion, "cancelled");
  });

  it("runs a PR from a fork when a permitted user asks", async () => {
    await commentAndReplies("!memfarm local-build", "maintainer", 8);
    const jobs = await jobsOfPr(8);
    assert.equal(jobs.length, 1);
    assert.equal((jobs[0] as JobResource).ref, "pull/8/head");
  });

  it("does nothing for bots, edits, deletions, plain issues and other repositories", async () => {
    const calls = fx.github.calls.length;
    const quiet = [
      commentPayload(fx.repo, {
        body: "!memfarm local-build",
        user: "some-bot[bot]",
        userType: "Bot",
        pr: 12,
      }),
      commentPayload(fx.repo, { body: "!memfarm local-build", user: "maintainer", action: "edited", pr: 12 }),
      commentPayload(fx.repo, {
        body: "!memfarm local-build",
        user: "maintainer",
        action: "deleted",
        pr: 12,
      }),
      commentPayload(fx.repo, { body: "!memfarm local-build", user: "maintainer", onIssue: true, pr: 12 }),
      commentPayload(
        { ...fx.repo, fullName: "someone/elsewhere" },
        { body: "!memfarm local-build", user: "maintainer", pr: 12 },
      ),
      commentPayload(fx.repo, { body: "LGTM, but !memfarm local-build later", user: "maintainer", pr: 12 }),
    ];
    for (const payload of quiet) {
      assert.equal(
        (await deliver(fx.farm.url, signedDelivery("issue_comment", payload, SECRET))).status,
        202,
      );
    }
    await settled();
    assert.deepEqual(
      fx.github.calls.slice(calls).map((call) => `${call.method} ${call.path}`),
      [],
    );
    assert.equal((await jobsOfPr(12)).length, 0);
  });
});
