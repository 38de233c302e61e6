import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { reportComment } from "../../../coordinator/github/job-report.ts";
import type { JobResource, TestResource } from "../../../protocol/resources.ts";
import { launchChromium, type TestBrowser } from "../../helpers/chromium.ts";
import { finished, startFarm, type TestFarm } from "../../helpers/farm.ts";
import { findTestPython } from "../../helpers/python.ts";

/** A finished bigmem-smoke job's page, as a core developer reads it and pastes from it. */
describe("a job's page in Chromium", () => {
  let farm: TestFarm;
  let browser: TestBrowser;
  let page: Page;
  let python: string;
  let job: JobResource;

  before(async () => {
    python = findTestPython();
    farm = await startFarm();
    const queued = await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"] });
    job = await farm.waitFor(queued.id, finished);
    assert.equal(job.status, "passed", job.error ?? "");
    browser = await launchChromium();
    await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: farm.url });
    page = await browser.context.newPage();
  });
  after(async () => {
    await browser?.close();
    await farm?.stop();
  });

  it("heads the page with the Python version and what was built, not only the interpreter's path", async () => {
    await page.goto(`${farm.url}/jobs/${job.id}`);
    assert.match(job.pythonVersion ?? "", /^3\.\d+/, "the agent reported the version");
    assert.equal(await page.locator("#job-python").textContent(), job.pythonVersion);
    assert.equal(
      await page.locator("#job-commit").textContent(),
      "an installed interpreter, not a build",
      "a job on an interpreter has no commit to show",
    );
    assert.equal(await page.locator("#job-interpreter").textContent(), python);
  });

  it("copies as Markdown exactly the text of the PR comment, and shows it without the clipboard", async () => {
    await page.goto(`${farm.url}/jobs/${job.id}`);
    const tests = (await farm.api(`/jobs/${job.id}/tests`)).body as { tests: TestResource[] };
    // A job on an interpreter has no repository, so no base-branch run to compare with.
    const expected = reportComment({
      job,
      tests: tests.tests,
      comparison: null,
      baseRef: "main",
      jobUrl: `${farm.url}/jobs/${job.id}`,
    });
    assert.match(expected, /^\*\*memfarm \/ bigmem-smoke\*\*/);
    assert.equal(await page.locator("#markdown-comment").textContent(), expected);
    await page.click("button.copy[data-copy='markdown-comment']");
    await page.waitForFunction(`document.querySelector("#markdown .copy-state")?.textContent === "Copied."`);
    assert.equal(await page.evaluate("navigator.clipboard.readText()"), expected);
  });
});
