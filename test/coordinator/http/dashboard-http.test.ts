import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobResource } from "../../../protocol/resources.ts";
import { page, postForm, signIn } from "../../helpers/dashboard-forms.ts";
import { finished, startFarm, type TestFarm } from "../../helpers/farm.ts";
import { findTestPython } from "../../helpers/python.ts";

async function jobCount(farm: TestFarm): Promise<number> {
  return ((await farm.api("/jobs?limit=500")).body as { jobs: unknown[] }).jobs.length;
}

describe("the dashboard over HTTP, without JavaScript", () => {
  let farm: TestFarm;
  let python: string;
  let job: JobResource;
  before(async () => {
    python = findTestPython();
    farm = await startFarm();
    const queued = await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool", "test_int"] });
    job = await farm.waitFor(queued.id, finished);
    assert.equal(job.status, "passed", job.error ?? "");
  });
  after(async () => {
    await farm?.stop();
  });

  it("renders the job list with filters, read-only for a visitor", async () => {
    const { status, html } = await page(farm, "/");
    assert.equal(status, 200);
    assert.match(html, new RegExp(`id="job-row-${job.id}"`));
    assert.match(html, /<label for="filter-status">Status<\/label>/);
    assert.match(html, /<label for="filter-ref">Ref or PR<\/label>/);
    assert.doesNotMatch(html, /action="\/jobs"/, "no submit form without a session");
    assert.match(html, /href="\/sign-in"/);

    assert.match((await page(farm, "/?status=passed&host=test-agent")).html, new RegExp(`job-row-${job.id}`));
    assert.doesNotMatch((await page(farm, "/?status=failed")).html, new RegExp(`job-row-${job.id}`));
    const byPullRequest = await page(farm, "/?ref=%2312345");
    assert.doesNotMatch(byPullRequest.html, new RegExp(`job-row-${job.id}`));
    assert.match(byPullRequest.html, /value="pull\/12345\/head"/, "a PR number is searched as its ref");
  });

  it("renders a job's page: facts, chart with limits and peak, sortable tests, timeline, log", async () => {
    const { status, html } = await page(farm, `/jobs/${job.id}`);
    assert.equal(status, 200);
    assert.match(html, /<svg id="memory-chart"/);
    assert.match(html, /class="level level-memlimit"|memlimit \(-M\)/);
    assert.match(
      html,
      /class="peak" data-peak-label="peak /,
      "the kernel's peak is marked once the job ended",
    );
    assert.match(html, /<table class="tests sortable" id="tests"/);
    assert.match(html, /aria-sort="descending" data-sort-key="peak"/, "tests sort by peak memory by default");
    assert.match(html, /href="\?sort=name#tests"|href="\?sort=-name#tests"/);
    assert.match(html, /<th scope="col" title="How the peak was measured[^"]*">Measured by<\/th>/);
    assert.match(
      html,
      /<td class="peak-measure" title="[^"]+">(cgroup|processes|processes, no shm)<\/td>/,
      "each measured peak says how",
    );
    assert.match(html, /id="timeline"/);
    assert.match(html, /attempt 1 assigned to test-agent/);
    assert.match(html, /Download the whole log/);
    assert.match(html, /test_bool/);

    const byName = await page(farm, `/jobs/${job.id}?sort=name`);
    assert.match(byName.html, /aria-sort="ascending" data-sort-key="name"/);
    // The rows of the tests table (the chart's case marks carry data-name too).
    const table = byName.html.slice(byName.html.indexOf('id="tests"'));
    const rows = table.slice(0, table.indexOf("</table>"));
    const names = [...rows.matchAll(/data-name="([^"]+)"/g)].map((match) => match[1] as string);
    assert.ok(names.includes("test_bool"), rows);
    assert.deepEqual(
      names,
      [...names].sort((a, b) => a.localeCompare(b)),
    );
  });

  it("answers chart data downsampled to the buckets asked for", async () => {
    const { status, body } = await farm.api(`/jobs/${job.id}/samples?buckets=5`);
    assert.equal(status, 200);
    assert.ok(body.buckets.length >= 1 && body.buckets.length <= 5, JSON.stringify(body.buckets.length));
    for (const bucket of body.buckets) assert.ok(bucket.minRssBytes <= bucket.maxRssBytes);
    assert.equal(body.limits.memlimitBytes, job.memlimitBytes);
    assert.equal(body.limits.reservationBytes, job.reservationBytes);
    assert.equal(body.limits.limitBytes, job.limitBytes);
    assert.equal(body.peakRssBytes, job.peakRssBytes);
    assert.ok(body.tests.some((test: { name: string }) => test.name === "test_bool"));
    assert.equal((await farm.api(`/jobs/${job.id}/samples?buckets=0`)).status, 400);
    const raw = await farm.api(`/jobs/${job.id}/samples`);
    assert.ok(Array.isArray(raw.body.samples), "without buckets the API keeps answering every sample");
  });

  it("renders hosts with memory bars, a comparison, and a 404 page", async () => {
    const hosts = await page(farm, "/hosts");
    assert.equal(hosts.status, 200);
    assert.match(hosts.html, /id="host-test-agent"/);
    assert.match(hosts.html, /class="bar" role="img"/);
    assert.doesNotMatch(hosts.html, /\/drain"/, "no drain button without a session");

    const compared = await page(farm, `/compare?base=${job.id}&head=${job.id}`);
    assert.equal(compared.status, 200);
    assert.match(compared.html, /0 tests grew by 5 % or more/);
    assert.match(compared.html, /<table class="compare"/);
    // Both jobs' memory on one chart (here the same job twice: its samples, so a line, on each side).
    assert.match(
      compared.html,
      new RegExp(`<path class="overlay-base" data-job="${job.id}" d="M[\\d.]+,[\\d.]+ L`),
    );
    assert.match(
      compared.html,
      new RegExp(`<path class="overlay-head" data-job="${job.id}" d="M[\\d.]+,[\\d.]+ L`),
    );
    assert.equal((await page(farm, "/compare?base=999999&head=1")).status, 404);
    assert.equal((await page(farm, "/jobs/999999")).status, 404);
    assert.equal((await page(farm, "/no/such/page")).status, 404);
  });

  it("refuses form posts without a session or from another origin, and changes nothing", async () => {
    const before = await jobCount(farm);
    const form = { suite: "bigmem-smoke", python, tests: "test_bool" };
    assert.equal((await postForm(farm, "/jobs", form)).status, 401);
    const cookie = await signIn(farm, farm.token);
    assert.equal(
      (await postForm(farm, "/jobs", form, { cookie, origin: "http://evil.example" })).status,
      403,
    );
    assert.equal((await postForm(farm, "/jobs", form, { cookie, origin: null })).status, 403);
    assert.equal((await postForm(farm, `/jobs/${job.id}/cancel`, {})).status, 401);
    assert.equal((await postForm(farm, "/hosts/test-agent/drain", {})).status, 401);
    assert.equal(
      (await postForm(farm, "/sign-in", { token: farm.token }, { origin: "http://evil.example" })).status,
      403,
    );
    assert.equal((await postForm(farm, "/sign-in", { token: "mf_not-a-token" })).status, 401);
    assert.equal(await jobCount(farm), before);
    assert.equal((await farm.api("/agents")).body.agents[0].state, "online");
  });

  it("signs in with a token into an HttpOnly, SameSite=Strict session that holds no token", async () => {
    const response = await postForm(farm, "/sign-in", { token: farm.token });
    assert.equal(response.status, 303);
    const setCookie = response.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.ok(!setCookie.includes(farm.token), "the raw token stays out of the cookie");
    const cookie = setCookie.split(";")[0] as string;
    const jobs = await page(farm, "/", cookie);
    assert.match(jobs.html, /Signed in as <strong id="signed-in-as">admin<\/strong>/);
    assert.match(jobs.html, /action="\/jobs"/);

    const signedOut = await postForm(farm, "/sign-out", {}, { cookie });
    assert.equal(signedOut.status, 303);
    assert.equal((await postForm(farm, "/jobs", { suite: "bigmem-smoke", python }, { cookie })).status, 401);
  });

  it("submits, cancels, drains and undrains for a signed-in user", async () => {
    const cookie = await signIn(farm, farm.token);
    // The job may end before the cancel arrives (test_bool is quick); either way the form worked.
    const submitted = await postForm(
      farm,
      "/jobs",
      { suite: "bigmem-smoke", python, tests: "test_bool", priority: "low" },
      { cookie },
    );
    assert.equal(submitted.status, 303);
    const id = Number(/\/jobs\/(\d+)$/.exec(submitted.headers.get("location") ?? "")?.[1]);
    const created = (await farm.api(`/jobs/${id}`)).body as JobResource;
    assert.equal(created.provenance.source, "dashboard");
    assert.equal(created.provenance.requester, "admin");
    const canceled = await postForm(farm, `/jobs/${id}/cancel`, {}, { cookie });
    assert.equal(canceled.status, 303);
    const ended = await farm.waitFor(id, finished);
    assert.ok(["canceled", "passed"].includes(ended.status), ended.status);

    const refused = await postForm(
      farm,
      "/jobs",
      { suite: "bigmem-smoke", python: "relative/python" },
      { cookie },
    );
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /must be an absolute path/);

    assert.equal((await postForm(farm, "/hosts/test-agent/drain", {}, { cookie })).status, 303);
    assert.equal((await farm.api("/agents")).body.agents[0].state, "draining");
    assert.match((await page(farm, "/hosts", cookie)).html, /\/hosts\/test-agent\/undrain"/);
    assert.equal((await postForm(farm, "/hosts/test-agent/undrain", {}, { cookie })).status, 303);
    assert.equal((await farm.api("/agents")).body.agents[0].state, "online");
  });

  it("ends a session when its token is revoked", async () => {
    const created = await farm.api("/tokens", { body: { owner: "alice" } });
    assert.equal(created.status, 201);
    const cookie = await signIn(farm, created.body.token);
    assert.match((await page(farm, "/", cookie)).html, /Signed in as <strong id="signed-in-as">alice/);
    assert.equal((await farm.api(`/tokens/${created.body.id}/revoke`, { method: "POST" })).status, 200);
    assert.doesNotMatch((await page(farm, "/", cookie)).html, /Signed in as/);
    assert.equal((await postForm(farm, "/hosts/test-agent/drain", {}, { cookie })).status, 401);
  });
});
