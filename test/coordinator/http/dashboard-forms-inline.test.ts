import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobResource } from "../../../protocol/resources.ts";
import { page, postForm, signIn } from "../../helpers/dashboard-forms.ts";
import { finished, startFarm, type TestFarm } from "../../helpers/farm.ts";
import { findTestPython } from "../../helpers/python.ts";

async function jobCount(farm: TestFarm): Promise<number> {
  return ((await farm.api("/jobs?limit=500")).body as { jobs: unknown[] }).jobs.length;
}

/** The job list's status links as `status count` pairs, and the one marked current. */
function statusLinks(html: string): { links: string[]; current: string | null } {
  const nav = /<nav class="status-counts"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? "";
  const links = [
    ...nav.matchAll(/<a href="([^"]*)"[^>]*data-status="([^"]*)">[^<]*<span class="count">(\d+)/g),
  ].map(([, href, status, count]) => `${status || "all"} ${count} ${href}`);
  const current = /aria-current="page" data-status="([^"]*)"/.exec(nav)?.[1] ?? null;
  return { links, current };
}

describe("the dashboard's forms and actions where users expect them, over HTTP", () => {
  let farm: TestFarm;
  let python: string;
  let passed: JobResource;
  let cookie: string;
  before(async () => {
    python = findTestPython();
    farm = await startFarm();
    passed = await farm.waitFor(
      (await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"] })).id,
      finished,
    );
    assert.equal(passed.status, "passed", passed.error ?? "");
    cookie = await signIn(farm, farm.token);
  });
  after(async () => {
    await farm?.stop();
  });

  /** Runs `use` with a job that waits, the only agent drained, then cancels the job and undrains. */
  async function withHeldJob(use: (job: JobResource) => Promise<void>): Promise<void> {
    assert.equal((await farm.api("/agents/test-agent/drain", { body: {} })).status, 200);
    try {
      const job = await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"] });
      await use(job);
      assert.equal((await farm.api(`/jobs/${job.id}/cancel`, { body: {} })).status, 200);
    } finally {
      assert.equal((await farm.api("/agents/test-agent/undrain", { body: {} })).status, 200);
    }
  }

  it("counts the jobs per status as filter links that keep the other filters", async () => {
    await withHeldJob(async () => undefined);

    const all = statusLinks((await page(farm, "/")).html);
    assert.deepEqual(all.links, ["all 2 /", "passed 1 /?status=passed", "canceled 1 /?status=canceled"]);
    assert.equal(all.current, "");

    const byStatus = statusLinks((await page(farm, "/?status=passed&host=test-agent")).html);
    assert.equal(byStatus.current, "passed");
    // The host filter counts too: the canceled job never ran on test-agent.
    assert.deepEqual(byStatus.links, [
      "all 1 /?host=test-agent",
      "passed 1 /?status=passed&amp;host=test-agent",
    ]);

    const none = statusLinks((await page(farm, "/?status=oom")).html);
    assert.ok(none.links.includes("oom 0 /?status=oom"), "the status filtered by shows even with no jobs");
  });

  it("shows a refused submission again: the form open, every value kept, the error beside its field", async () => {
    const jobsBefore = await jobCount(farm);
    const refused = await postForm(
      farm,
      "/jobs",
      {
        suite: "bigmem-smoke",
        python,
        memlimit: "lots",
        tests: "test_bool, test_int",
        priority: "high",
        workers: "",
      },
      { cookie },
    );
    assert.equal(refused.status, 400);
    const html = await refused.text();
    assert.match(html, /<details class="submit-form" id="submit" open>/);
    assert.match(
      html,
      /id="submit-memlimit" name="memlimit" value="lots"[^>]*aria-invalid="true" aria-errormessage="submit-error" autofocus>/,
    );
    assert.match(
      html,
      /<input id="submit-memlimit"[^>]*>\s*<p class="field-error span-2" id="submit-error" role="alert">[^<]*lots[^<]*is not a size/,
    );
    assert.match(
      html,
      new RegExp(`id="submit-python" name="python" value="${python.replace(/[/.]/g, "\\$&")}"`),
    );
    assert.match(html, /name="tests" value="test_bool, test_int"/);
    assert.match(html, /<option selected>high<\/option>/);
    assert.match(html, /<option value="bigmem-smoke" selected>/);
    assert.equal(await jobCount(farm), jobsBefore, "nothing was queued");

    // Both an interpreter and a ref: the API names ref, so the message stands beside it.
    const both = await postForm(farm, "/jobs", { suite: "bigmem-smoke", python, ref: "main" }, { cookie });
    assert.equal(both.status, 400);
    const bothHtml = await both.text();
    assert.match(
      bothHtml,
      /name="ref" value="main"[^>]*aria-invalid="true"[^>]*>\s*<p class="field-error span-2" id="submit-error" role="alert">give either python/,
    );
    assert.equal(await jobCount(farm), jobsBefore);
  });

  it("shows a refused host again with its values, but never the private key or its passphrase", async () => {
    const key =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END OPENSSH PRIVATE KEY-----";
    const refused = await postForm(
      farm,
      "/hosts",
      {
        target: "ssh://memfarm@arm1.example.org:22",
        name: "arm1",
        labels: "pool=bigmem",
        identity: key,
        passphrase: "hunter2-passphrase",
        trust: "fingerprint",
        fingerprint: "SHA256:short",
      },
      { cookie },
    );
    assert.equal(refused.status, 400);
    const html = await refused.text();
    assert.match(html, /<details class="submit-form" id="add-host" open>/);
    assert.match(html, /name="target" value="ssh:\/\/memfarm@arm1.example.org:22"/);
    assert.match(html, /name="labels" value="pool=bigmem"/);
    assert.match(
      html,
      /id="add-fingerprint" name="fingerprint" value="SHA256:short"[^>]*aria-invalid="true"/,
    );
    assert.match(
      html,
      /<p class="field-error span-2" id="add-host-error" role="alert">[^<]*is not a SHA256 host key fingerprint/,
    );
    assert.doesNotMatch(html, /c2VjcmV0LWtleS1tYXRlcmlhbA|hunter2-passphrase/, "secrets are not sent back");
    assert.match(html, /paste it again after a refusal/);
    assert.equal(
      (await farm.api("/hosts")).body && (await page(farm, "/hosts/arm1")).status,
      404,
      "no host was added",
    );
  });

  it("runs a finished job again from a form post, signed in only, and refuses a job still queued", async () => {
    assert.equal((await postForm(farm, `/jobs/${passed.id}/retry`, {})).status, 401);
    assert.equal(
      (await postForm(farm, `/jobs/${passed.id}/retry`, {}, { cookie, origin: "https://evil.example" }))
        .status,
      403,
    );
    const jobsBefore = await jobCount(farm);
    const retried = await postForm(farm, `/jobs/${passed.id}/retry`, {}, { cookie });
    assert.equal(retried.status, 303);
    const location = retried.headers.get("location") ?? "";
    const copy = (await farm.api(`/jobs/${location.split("/").pop()}`)).body as JobResource;
    assert.equal(location, `/jobs/${copy.id}`);
    assert.equal(copy.provenance.retryOf, passed.id);
    assert.equal(await jobCount(farm), jobsBefore + 1);
    await farm.waitFor(copy.id, finished);

    await withHeldJob(async (held) => {
      const early = await postForm(farm, `/jobs/${held.id}/retry`, {}, { cookie });
      assert.equal(early.status, 409);
      assert.match(await early.text(), /is queued; retry a job once it has ended/);
    });

    const { html } = await page(farm, "/", cookie);
    assert.match(
      html,
      new RegExp(`action="/jobs/${passed.id}/retry"`),
      "a finished job's row has the button",
    );
  });

  it("serves a favicon that every page links, with a cache header", async () => {
    const icon = await fetch(`${farm.url}/static/favicon.svg`);
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get("content-type") ?? "", /^image\/svg\+xml/);
    assert.match(icon.headers.get("cache-control") ?? "", /max-age=\d+/);
    assert.match(await icon.text(), /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const path of ["/", "/hosts", `/jobs/${passed.id}`, "/sign-in"]) {
      assert.match(
        (await page(farm, path)).html,
        /<link rel="icon" href="\/static\/favicon.svg" type="image\/svg\+xml">/,
        path,
      );
    }
    const ico = await fetch(`${farm.url}/favicon.ico`, { redirect: "manual" });
    assert.equal(ico.status, 301);
    assert.equal(ico.headers.get("location"), "/static/favicon.svg");
  });
});
