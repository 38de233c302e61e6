import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { HostResource, JobResource } from "../../../protocol/resources.ts";
import { launchChromium, type TestBrowser } from "../../helpers/chromium.ts";
import { finished, startFarm, type TestFarm } from "../../helpers/farm.ts";
import { findTestPython } from "../../helpers/python.ts";

/** A phone's viewport (an iPhone 12 to 15 held upright). */
const PHONE = { width: 390, height: 844 };

async function signInThroughTheForm(page: Page, farm: TestFarm): Promise<void> {
  await page.goto(`${farm.url}/sign-in`);
  await page.fill("#token", farm.token);
  await Promise.all([page.waitForURL(`${farm.url}/`), page.click("form.stacked button[type=submit]")]);
  assert.equal(await page.locator("#signed-in-as").textContent(), "admin");
}

/** The page body's width beyond the viewport: what a person would have to scroll sideways. */
const overflow = (page: Page) =>
  page.evaluate(
    "document.documentElement.scrollWidth - document.documentElement.clientWidth",
  ) as Promise<number>;

/** A blank page, so that no job page's own reload cuts the next navigation short. */
async function leaveForBlank(page: Page): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      await page.goto("about:blank");
      return;
    } catch (thrown) {
      if (!/interrupted by another navigation/.test((thrown as Error).message) || tries >= 5) throw thrown;
    }
  }
}

describe("the dashboard's actions in Chromium: run again, and a phone's width", { timeout: 300_000 }, () => {
  let farm: TestFarm;
  let browser: TestBrowser;
  let page: Page;
  let job: JobResource;

  before(async () => {
    const python = findTestPython();
    farm = await startFarm();
    const queued = await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"] });
    job = await farm.waitFor(queued.id, finished);
    assert.equal(job.status, "passed", job.error ?? "");
    browser = await launchChromium();
    page = await browser.context.newPage();
  });
  after(async () => {
    await browser?.close();
    await farm?.stop();
  });

  it("shows no run-again button to a visitor", async () => {
    await page.goto(`${farm.url}/jobs/${job.id}`);
    assert.equal(await page.locator(".retry-job").count(), 0);
    await page.goto(`${farm.url}/`);
    assert.equal(await page.locator(".retry-job").count(), 0);
  });

  it("runs a finished job again from its page and goes to the new job", async () => {
    await signInThroughTheForm(page, farm);
    await page.goto(`${farm.url}/jobs/${job.id}`);
    const button = page.locator(`.retry-job[data-retry='${job.id}']`);
    assert.match((await button.textContent()) ?? "", new RegExp(`Run again\\s*job #${job.id}`));
    await Promise.all([page.waitForURL(/\/jobs\/\d+$/), button.click()]);
    const newId = Number(new URL(page.url()).pathname.split("/").pop());
    assert.notEqual(newId, job.id);
    const copy = (await farm.api(`/jobs/${newId}`)).body as JobResource;
    assert.equal(copy.provenance.retryOf, job.id);
    assert.equal(copy.provenance.requester, "admin");
    assert.deepEqual(copy.tests, job.tests);
    assert.match((await page.locator("h1").textContent()) ?? "", new RegExp(`Job #${newId}`));
    // Before the job ends: its page would reload itself then, in the middle of the next test.
    await leaveForBlank(page);
    await farm.waitFor(newId, finished);
  });

  it("runs a job again from its row in the job list", async () => {
    // The same page, away from the job page above (a second page beside it sometimes never
    // finished loading in headless Chromium here). That job page reloads itself when its job ends,
    // which may cut this navigation short: leave it for a blank page first, then go on.
    const list = page;
    await leaveForBlank(list);
    await list.goto(`${farm.url}/`);
    const before = ((await farm.api("/jobs")).body as { jobs: JobResource[] }).jobs.length;
    await Promise.all([list.waitForURL(/\/jobs\/\d+$/), list.click(`#job-row-${job.id} .retry-job`)]);
    const after = ((await farm.api("/jobs")).body as { jobs: JobResource[] }).jobs;
    assert.equal(after.length, before + 1);
    const newest = after[0] as JobResource;
    assert.equal(list.url(), `${farm.url}/jobs/${newest.id}`);
    assert.equal(newest.provenance.retryOf, job.id);
    await farm.waitFor(newest.id, finished);
  });

  it("lays out the job list, a job's page and the hosts page without sideways scrolling at 390 px", async () => {
    // A page of the same profile: signed in, so the forms and action buttons are there too.
    const small = await browser.context.newPage();
    await small.setViewportSize(PHONE);
    for (const path of ["/", `/jobs/${job.id}`, "/hosts", "/sign-in"]) {
      await small.goto(`${farm.url}${path}`);
      if (path === "/") await small.click("#submit summary");
      if (path === "/hosts") await small.click("#add-host summary");
      const width = (await small.evaluate("document.documentElement.scrollWidth")) as number;
      assert.ok(
        width <= PHONE.width,
        `${path} is ${width} px wide at ${PHONE.width} px (${await overflow(small)} px too wide)`,
      );
    }
    // The tables keep their columns and scroll inside their own box instead.
    await small.goto(`${farm.url}/`);
    const table = (await small.evaluate(
      "(() => { const box = document.querySelector('#jobs').parentElement; return [box.scrollWidth, box.clientWidth]; })()",
    )) as [number, number];
    assert.ok(table[0] >= table[1]);
    await small.close();
  });

  it("adds a host with the installed agent's options, refusing a bad one beside its field with the input kept", async () => {
    await leaveForBlank(page);
    await page.goto(`${farm.url}/hosts`);
    if ((await page.locator("#signed-in-as").count()) === 0) await signInThroughTheForm(page, farm);
    await page.goto(`${farm.url}/hosts`);
    const key =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END OPENSSH PRIVATE KEY-----";
    const fill = async (options: Record<string, string>) => {
      await page.fill("#add-target", "ssh://memfarm@127.0.0.1:1");
      await page.fill("#add-name", "form-host");
      await page.fill("#add-identity", key);
      await page.check("#add-trust-accept-new");
      for (const [id, value] of Object.entries(options)) await page.fill(`#${id}`, value);
    };
    await page.click("#add-host summary");
    await fill({ "add-memory": "lots", "add-drain-timeout": "15m", "add-build-cache-size": "20G" });
    await Promise.all([page.waitForLoadState("load"), page.click("#add-host button[type=submit]")]);
    await page.waitForSelector("#add-host-error");
    assert.equal(await page.locator("#add-memory").getAttribute("aria-invalid"), "true");
    assert.match(
      (await page.locator("#add-memory + .field-error").textContent()) ?? "",
      /lots/,
      "the error stands beside the memory field and names what was typed",
    );
    assert.equal(await page.locator("#add-memory").inputValue(), "lots", "the input is kept");
    assert.equal(await page.locator("#add-drain-timeout").inputValue(), "15m");
    assert.equal(await page.locator("#add-build-cache-size").inputValue(), "20G");
    assert.equal(await page.locator("#add-target").inputValue(), "ssh://memfarm@127.0.0.1:1");
    assert.equal((await farm.api("/hosts/form-host")).status, 404, "no host was added");

    for (const [id, bad] of [
      ["add-no-new-jobs", "nine to five"],
      ["add-drain-timeout", "soon"],
      ["add-build-cache-size", "-3G"],
    ] as const) {
      await page.goto(`${farm.url}/hosts`);
      await page.click("#add-host summary");
      await fill({ [id]: bad });
      await Promise.all([page.waitForLoadState("load"), page.click("#add-host button[type=submit]")]);
      await page.waitForSelector("#add-host-error");
      assert.equal(await page.locator(`#${id}`).getAttribute("aria-invalid"), "true", `${id}: ${bad}`);
      assert.equal(await page.locator(`#${id}`).inputValue(), bad);
    }

    await page.goto(`${farm.url}/hosts`);
    await page.click("#add-host summary");
    await fill({
      "add-memory": "2G",
      "add-no-new-jobs": "09:00-17:00",
      "add-drain-timeout": "15m",
      "add-build-cache-size": "20G",
    });
    await Promise.all([
      page.waitForURL(`${farm.url}/hosts/form-host`),
      page.click("#add-host button[type=submit]"),
    ]);
    const host = (await farm.api("/hosts/form-host")).body as HostResource;
    assert.deepEqual(host.agentOptions, {
      memory: "2G",
      noNewJobs: "09:00-17:00",
      drainTimeout: "15m",
      buildCacheSize: "20G",
    });
  });
});
