import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { AgentResource, JobResource } from "../../../protocol/resources.ts";
import { formatBytes } from "../../../protocol/sizes.ts";
import { launchChromium, type TestBrowser } from "../../helpers/chromium.ts";
import { makeJobsDir, startFarm, type TestFarm } from "../../helpers/farm.ts";
import { findTestPython } from "../../helpers/python.ts";
import { factsOutput, startFakeSshHost } from "../hosts/fake-ssh-host.ts";

/**
 * A test file that keeps running, printing and growing (to 100 MiB) until the
 * test creates `release`; then it allocates a 150 MiB spike for a moment and
 * ends. The browser test sees a running job without guessing how long it runs.
 */
function writeGatedTest(dir: string, release: string): void {
  writeFileSync(
    join(dir, "test_gated.py"),
    [
      "import os, time, unittest",
      `RELEASE = ${JSON.stringify(release)}`,
      "class Gated(unittest.TestCase):",
      "    def test_grow_until_released(self):",
      "        held, tick = [], 0",
      "        while not os.path.exists(RELEASE):",
      "            if len(held) < 20: held.append(b'x' * (5 * 1024 * 1024))",
      "            print('tick', tick, flush=True)",
      "            tick += 1",
      "            time.sleep(0.2)",
      "        spike = b'y' * (150 * 1024 * 1024)",
      "        time.sleep(0.8)",
      "        del spike",
      "        print('released', flush=True)",
      "",
    ].join("\n"),
  );
}

const count = (page: Page, selector: string) => page.locator(selector).count();

describe("the dashboard in Chromium", () => {
  let farm: TestFarm;
  let browser: TestBrowser;
  let page: Page;
  let python: string;
  let testDir: string;
  const release = () => join(testDir, "release");

  before(async () => {
    python = findTestPython();
    testDir = mkdtempSync(join(tmpdir(), "memfarm-browser-tests-"));
    writeGatedTest(testDir, join(testDir, "release"));
    farm = await startFarm({
      jobsDir: makeJobsDir({
        gated: {
          description: "a test that runs until the browser test releases it",
          workers: 1,
          memlimit: "2G",
          timeoutSeconds: 600,
          args: ["--testdir", testDir, "-v"],
        },
      }),
    });
    browser = await launchChromium();
    page = await browser.context.newPage();
  });
  after(async () => {
    if (testDir && !existsSync(release())) writeFileSync(release(), "");
    await browser?.close();
    await farm?.stop();
    if (testDir) rmSync(testDir, { recursive: true, force: true });
  });

  let job: JobResource;

  it("shows a newly submitted job in the open job list without a reload", async () => {
    await page.goto(`${farm.url}/`);
    await page.waitForSelector("#jobs[data-connected='true']", { state: "attached" });
    job = await farm.submit({ suite: "gated", python, tests: ["test_gated"] });
    await page.waitForSelector(`#job-row-${job.id}`);
    assert.equal(await page.locator(`#job-row-${job.id} a`).textContent(), `#${job.id}`);
  });

  it("streams a running job's log lines and chart points into its page", async () => {
    await farm.waitFor(job.id, (current) => current.status === "running");
    await page.goto(`${farm.url}/jobs/${job.id}`);
    await page.waitForSelector("#log[data-connected='true']");
    const linesAtLoad = await count(page, "#log span");
    // Page functions are strings: the tests compile without the DOM's types.
    await page.waitForFunction(`document.querySelectorAll("#log span").length > ${linesAtLoad + 3}`);
    // On a busy machine regrtest's own header lines may be the ones that arrived so far.
    await page.waitForFunction(`/tick \\d+/.test(document.querySelector("#log")?.textContent ?? "")`);
    assert.match((await page.locator("#log").textContent()) ?? "", /tick \d+/);

    // The script redraws the chart from /samples?buckets=N as samples arrive.
    await page.waitForSelector("#memory-chart[data-buckets]");
    const bucketsAt = async () => Number(await page.locator("#memory-chart").getAttribute("data-buckets"));
    const first = await bucketsAt();
    await page.waitForFunction(
      `Number(document.querySelector("#memory-chart")?.getAttribute("data-buckets")) > ${first}`,
    );
    assert.match(
      (await page.locator("#memory-chart .peak").getAttribute("data-peak-label")) ?? "",
      /^highest sample /,
      "while running, the chart marks the highest sample so far",
    );
    assert.equal(await page.locator("#job-status").textContent(), "running");
  });

  it("marks the kernel's peak on the chart once the job has ended", async () => {
    writeFileSync(release(), "");
    // The page reloads itself when the job ends; the final page names the true peak.
    await page.waitForSelector("#job-status.status-passed", { timeout: 120_000 });
    const ended = (await farm.api(`/jobs/${job.id}`)).body as JobResource;
    assert.equal(ended.status, "passed", ended.error ?? "");
    assert.ok((ended.peakRssBytes ?? 0) > 150 * 1024 * 1024, `peak ${ended.peakRssBytes}`);
    const label = await page.locator("#memory-chart .peak").getAttribute("data-peak-label");
    assert.equal(label, `peak ${formatBytes(ended.peakRssBytes)}`);
    assert.ok(
      (await count(page, "#memory-chart line.level-memlimit, #memory-chart line.level-reservation")) > 0,
    );
    if (process.env.MEMFARM_UPDATE_SCREENSHOT === "1") {
      await page.screenshot({ path: join(process.cwd(), "docs", "job-page.png"), fullPage: false });
    }
  });

  it("sorts the tests table from the keyboard", async () => {
    const header = page.locator("#tests th[data-sort-key='name'] button");
    await header.focus();
    await page.keyboard.press("Enter");
    assert.equal(
      await page.locator("#tests th[data-sort-key='name']").getAttribute("aria-sort"),
      "descending",
    );
    await page.keyboard.press("Enter");
    assert.equal(
      await page.locator("#tests th[data-sort-key='name']").getAttribute("aria-sort"),
      "ascending",
    );
  });

  it("follows the system's dark mode", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    const dark = await page.evaluate<string>("getComputedStyle(document.body).backgroundColor");
    await page.emulateMedia({ colorScheme: "light" });
    const light = await page.evaluate<string>("getComputedStyle(document.body).backgroundColor");
    assert.notEqual(dark, light);
    assert.equal(dark, "rgb(13, 17, 23)");
  });

  it("draws each host's memory bar with the numbers the API reports", async () => {
    // Used memory changes with every heartbeat: compare the page with the API when
    // the API answers the same before and after the page was rendered.
    for (let tries = 0; ; tries += 1) {
      const before = ((await farm.api("/agents")).body as { agents: AgentResource[] }).agents;
      await page.goto(`${farm.url}/hosts`);
      const afterwards = ((await farm.api("/agents")).body as { agents: AgentResource[] }).agents;
      if (JSON.stringify(before) !== JSON.stringify(afterwards) && tries < 20) continue;
      const agent = before[0] as AgentResource;
      const row = page.locator(`#host-${agent.name}`);
      const bytes = async (kind: string) =>
        Number(await row.locator(`dd.${kind}`).getAttribute("data-bytes"));
      assert.equal(await bytes("used"), agent.usedBytes);
      assert.equal(await bytes("reserved"), agent.reservedBytes);
      assert.equal(await bytes("capacity"), agent.capacityBytes);
      assert.equal(
        await bytes("free"),
        Math.max(0, agent.capacityBytes - Math.max(agent.usedBytes, agent.reservedBytes)),
      );
      assert.equal(await row.locator("dd.used").textContent(), formatBytes(agent.usedBytes));
      const style = await row.locator(".seg-used").getAttribute("style");
      const expected =
        Math.round(
          (agent.usedBytes / Math.max(agent.memoryBytes, agent.capacityBytes, agent.usedBytes)) * 1000,
        ) / 10;
      assert.equal(style, `width: ${expected}%`);
      return;
    }
  });

  it("follows an SSH host's step log live while it is added from the hosts page", async () => {
    // The fake host holds its first command (the facts script) and its second (stopping an old
    // agent) until the test lets them answer, so the page is seen while the operation runs.
    let releaseFacts = () => {};
    let releaseStop = () => {};
    const factsHeld = new Promise<void>((resolve) => {
      releaseFacts = resolve;
    });
    const stopHeld = new Promise<void>((resolve) => {
      releaseStop = resolve;
    });
    const host = await startFakeSshHost(factsOutput(), async (_command, index) => {
      if (index === 0) await factsHeld;
      if (index === 1) await stopHeld;
    });
    try {
      await page.goto(`${farm.url}/sign-in`);
      await page.fill("#token", farm.token);
      await Promise.all([page.waitForURL(`${farm.url}/`), page.click("form[action='/sign-in'] button")]);
      await page.goto(`${farm.url}/hosts`);
      await page.click("#add-host summary");
      await page.fill("#add-target", `ssh://farm@127.0.0.1:${host.port}`);
      await page.fill("#add-name", "browser-host");
      await page.fill("#add-identity", host.identity);
      await page.check("#add-trust-accept-new");
      await Promise.all([
        page.waitForURL(`${farm.url}/hosts/browser-host`),
        page.click("#add-host button[type=submit]"),
      ]);
      await page.waitForSelector("#host-log[data-following='true']", { state: "attached" });
      assert.equal(await page.locator("#host-status").textContent(), "working");
      await page.evaluate("window.loadedOnce = true");

      releaseFacts();
      await page.waitForFunction(`document.querySelector("#host-step")?.textContent === "stop"`);
      assert.match((await page.locator("#host-log").textContent()) ?? "", /\[facts\]/);
      assert.equal(await page.evaluate("window.loadedOnce"), true, "lines were appended, not reloaded");

      releaseStop();
      await page.waitForSelector("#host-error");
      assert.equal(await page.locator("#host-status").textContent(), "failed");
      assert.match((await page.locator("#host-error").textContent()) ?? "", /install/);
      assert.ok(!(await page.content()).includes(host.identity.split("\n")[1] as string));
    } finally {
      releaseFacts();
      releaseStop();
      await host.stop();
    }
  });
});
