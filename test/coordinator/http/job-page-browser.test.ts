import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import ejs from "ejs";
import type { Page } from "playwright-core";
import { chartData } from "../../../coordinator/dashboard/chart-data.ts";
import { chartGeometry } from "../../../coordinator/dashboard/chart-geometry.ts";
import { byLargestChange, compareTests } from "../../../coordinator/dashboard/compare-tests.ts";
import { reportComment } from "../../../coordinator/github/job-report.ts";
import { fmt } from "../../../coordinator/http/view-format.ts";
import { VIEWS_DIR } from "../../../coordinator/paths.ts";
import type { Sample } from "../../../protocol/messages.ts";
import type { JobResource, TestResource } from "../../../protocol/resources.ts";
import { launchChromium, type TestBrowser } from "../../helpers/chromium.ts";
import { FakeCpython, localBuildSuite } from "../../helpers/fake-cpython.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../../helpers/farm.ts";
import { findTestPython } from "../../helpers/python.ts";

/** test_grows holds as many MiB as asked (64 on main, then 320), test_steady always 32. */
function writeTests(dir: string, growsMib: number): void {
  const holding = (mib: number) =>
    `import time, unittest\nclass T(unittest.TestCase):\n    def test_hold(self):\n        block = bytearray(${mib} * 1024 * 1024)\n        for i in range(0, len(block), 4096): block[i] = 1\n        time.sleep(1)\n`;
  writeFileSync(join(dir, "test_grows.py"), holding(growsMib));
  writeFileSync(join(dir, "test_steady.py"), holding(32));
}

/** A finished bigmem-smoke job's page, as a core developer reads it and pastes from it, and a comparison. */
describe("a job's page and a comparison in Chromium", () => {
  let farm: TestFarm;
  let fixture: FakeCpython;
  let testDir: string;
  let browser: TestBrowser;
  let page: Page;
  let python: string;
  let job: JobResource;
  let base: JobResource;
  let head: JobResource;

  before(async () => {
    python = findTestPython();
    fixture = new FakeCpython();
    testDir = mkdtempSync(join(tmpdir(), "memfarm-job-page-"));
    writeTests(testDir, 64);
    farm = await startFarm({
      jobsDir: makeJobsDir({ "local-build": localBuildSuite(testDir) }),
      allowLocalRepos: true,
    });
    const queued = await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"] });
    job = await farm.waitFor(queued.id, finished);
    assert.equal(job.status, "passed", job.error ?? "");
    // Two runs of main: the second's page links to the first as the latest run on its base branch.
    const tests = ["test_grows", "test_steady"];
    base = await farm.submit({ suite: "local-build", ref: "main", repo: fixture.url, tests });
    base = await farm.waitFor(base.id, finished);
    assert.equal(base.status, "passed", base.error ?? "");
    writeTests(testDir, 320);
    head = await farm.submit({ suite: "local-build", ref: "main", repo: fixture.url, tests });
    head = await farm.waitFor(head.id, finished);
    assert.equal(head.status, "passed", head.error ?? "");
    browser = await launchChromium();
    await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: farm.url });
    page = await browser.context.newPage();
  });
  after(async () => {
    await browser?.close();
    await farm?.stop();
    if (testDir) rmSync(testDir, { recursive: true, force: true });
    if (fixture) rmSync(fixture.root, { recursive: true, force: true });
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

  it("goes in one click from a job to a comparison with the latest run on its base branch", async () => {
    await page.goto(`${farm.url}/jobs/${head.id}`);
    assert.equal(await page.locator("#compare-base-run").count(), 1);
    assert.match((await page.locator("#compare-base-run").textContent()) ?? "", new RegExp(`#${base.id}\\b`));
    await page.click("#compare-base-run");
    await page.waitForURL(`${farm.url}/compare?base=${base.id}&head=${head.id}`);
    const fact = (side: string, name: string) =>
      page.locator(`#compare-jobs td[data-side='${side}'][data-fact='${name}']`).textContent();
    for (const [side, ran] of [
      ["base", base],
      ["head", head],
    ] as const) {
      assert.match((await fact(side, "ref")) ?? "", /^main of /);
      assert.equal(await fact(side, "commit"), ran.commit?.slice(0, 12));
      assert.match(ran.pythonVersion ?? "", /^3\./);
      assert.equal(await fact(side, "python"), ran.pythonVersion);
    }
    // The rows in the order of the largest change, as `memfarm compare` and the API give them.
    const baseTests = (await farm.api(`/jobs/${base.id}/tests`)).body as { tests: TestResource[] };
    const headTests = (await farm.api(`/jobs/${head.id}/tests`)).body as { tests: TestResource[] };
    const expected = byLargestChange(compareTests(baseTests.tests, headTests.tests)).map((row) => row.name);
    const shown = await page
      .locator("#compare tbody tr")
      .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-name")));
    assert.deepEqual(shown, expected);
    assert.equal(shown[0], "test_grows", "the file that grew by 256 MiB changed most");
    const first = page.locator("#compare tbody tr").first();
    assert.match((await first.locator(".delta").textContent()) ?? "", /^\+2\d\d\.\d MiB$/);
    assert.match((await first.locator(".growth").textContent()) ?? "", /^\+\d+\.\d % \(grew\)$/);
  });

  it("shows a build's steps with durations, and log lines with times and permalinks", async () => {
    await page.goto(`${farm.url}/jobs/${base.id}`);
    const steps = await page
      .locator("#steps li")
      .evaluateAll((items) =>
        items.map((item) => [
          item.getAttribute("data-step"),
          item.querySelector(".step-duration")?.textContent,
        ]),
      );
    const names = steps.map(([name]) => name);
    for (const name of ["fetch", "configure", "make", "test"])
      assert.ok(names.includes(name), names.join(", "));
    assert.ok(names.indexOf("make") < names.indexOf("test"));
    for (const [name, duration] of steps)
      assert.match(duration ?? "", /^\d+\.\d s$|^\d+ min \d+ s$/, `${name}`);

    const log = (await farm.api(`/jobs/${base.id}/log`)).body as { lines: { lineNo: number; at?: string }[] };
    const third = log.lines[2];
    assert.match(third?.at ?? "", /^\d{4}-\d\d-\d\dT/, "the agent stamps each line");
    await page.goto(`${farm.url}/jobs/${base.id}#L3`);
    assert.equal(await page.locator("#L3 .ln").getAttribute("href"), "#L3");
    assert.equal(await page.locator("#L3 time.at").textContent(), third?.at?.slice(11, 19));
    assert.equal(await page.evaluate("document.querySelector(':target')?.id"), "L3");

    await page.click("#failures-only");
    await page.waitForURL(/\?log=failures/);
    assert.doesNotMatch(
      (await page.locator("#log").textContent()) ?? "",
      /\.\.\. ok/,
      "a passed case is no failure",
    );
  });

  it("draws the chart full width with memory and time axes, and reads out the point under the pointer", async () => {
    await page.goto(`${farm.url}/jobs/${base.id}`);
    const yLabels = await page.locator("#memory-chart .axis-y text.tick").allTextContents();
    assert.ok(yLabels.length > 0, "memory ticks");
    for (const label of yLabels) assert.match(label, /^\d+(\.\d)? (MiB|GiB)$/);
    const xLabels = await page.locator("#memory-chart .axis-x text.tick").allTextContents();
    assert.equal(xLabels[0], "0 s");
    assert.ok(xLabels.length >= 2, xLabels.join(", "));
    // Every test file's start is marked and named (on hover); a visible label is left out where it
    // would overprint another label, which depends on the run's timing, so only one must show.
    const marked = await page.locator("#memory-chart line.boundary title").allTextContents();
    for (const name of ["test_grows", "test_steady"])
      assert.ok(marked.includes(name), `${name}'s start marked on the chart: ${marked.join(", ")}`);
    assert.ok((await page.locator("#memory-chart text.test-label").count()) > 0, "a test file labelled");
    const chart = await page.locator("#memory-chart").boundingBox();
    const main = await page.locator("#chart-box").boundingBox();
    assert.ok(chart && main && chart.width >= main.width - 2, "the chart fills its box");
    // The first move fetches the chart's data; the next ones read it out.
    await page.mouse.move(chart.x + chart.width / 2, chart.y + chart.height / 2);
    const readout = await page.waitForFunction(`(() => {
      const box = document.getElementById("memory-chart").getBoundingClientRect();
      document.getElementById("chart-box").dispatchEvent(new PointerEvent("pointermove", { clientX: box.left + box.width / 2, clientY: box.top + 5, bubbles: true }));
      const text = document.getElementById("chart-readout").textContent;
      return /^at \\d/.test(text) ? text : null;
    })()`);
    assert.match(String(await readout.jsonValue()), /^at \d+ s: .*(MiB|GiB).* resident, CPU \d+ %/);
  });

  it("marks each test case on the chart and names it on hover and in the readout", async () => {
    await page.goto(`${farm.url}/jobs/${base.id}`);
    const marks = page.locator("#memory-chart rect.case-mark");
    const names = await marks.evaluateAll((rects) =>
      rects.map((rect) => rect.querySelector("title")?.textContent),
    );
    assert.ok(names.includes("test_grows.T.test_hold"), names.join(", "));
    assert.ok(names.includes("test_steady.T.test_hold"), names.join(", "));
    // Pointing at the middle of test_steady's case reads out that case, not the file before it.
    const mark = await page
      .locator("#memory-chart rect.case-mark[data-name='test_steady.T.test_hold']")
      .boundingBox();
    assert.ok(mark && mark.width > 2, "a case held for a second has a width");
    const at = mark.x + mark.width / 2;
    await page.mouse.move(at, mark.y);
    const readout = await page.waitForFunction(`(() => {
      document.getElementById("chart-box").dispatchEvent(new PointerEvent("pointermove", { clientX: ${at}, clientY: ${mark.y}, bubbles: true }));
      const text = document.getElementById("chart-readout").textContent;
      return /^at \\d/.test(text) ? text : null;
    })()`);
    assert.match(String(await readout.jsonValue()), /; test_steady › T\.test_hold$/);
  });

  it("keeps the peak's label off the limits' labels on an oom-like job, drawn by the server and live", async () => {
    const GiB = 1024 ** 3;
    const start = Date.parse("2026-01-01T00:00:00Z");
    // Memory climbs to the limit at the right edge, where the limit's label is: the old layout overprinted it.
    const samples: Sample[] = Array.from({ length: 40 }, (_, i) => ({
      at: start + i * 1000,
      rssBytes: Math.round(((i + 1) / 40) * (GiB + 20 * 1024 ** 2)),
      cpuPercent: 100,
      processes: 1,
    }));
    const oom = {
      ...job,
      status: "oom",
      memlimitBytes: GiB,
      reservationBytes: GiB,
      limitBytes: GiB,
      peakRssBytes: GiB + 20 * 1024 ** 2,
    } as JobResource;
    const data = chartData(oom, samples, []);
    const svg = await ejs.renderFile(join(VIEWS_DIR, "partials", "chart.ejs"), {
      chart: chartGeometry(data),
      jobId: oom.id,
      fmt,
    });
    await page.goto(`${farm.url}/jobs/${job.id}`);
    const clear = async (how: string) => {
      const boxes = (await page.evaluate(`(() => {
        const box = (node) => { const r = node.getBoundingClientRect(); return { x1: r.left, y1: r.top, x2: r.right, y2: r.bottom, text: node.textContent }; };
        return { peak: box(document.querySelector("#memory-chart .peak text")), levels: [...document.querySelectorAll("#memory-chart .level-label")].map(box) };
      })()`)) as { peak: Box; levels: Box[] };
      assert.ok(boxes.levels.length > 0);
      for (const level of boxes.levels) {
        const apart =
          boxes.peak.x2 <= level.x1 ||
          level.x2 <= boxes.peak.x1 ||
          boxes.peak.y2 <= level.y1 ||
          level.y2 <= boxes.peak.y1;
        assert.ok(apart, `${how}: "${boxes.peak.text}" overlaps "${level.text}": ${JSON.stringify(boxes)}`);
      }
    };
    await page.evaluate(`document.getElementById("chart-box").innerHTML = ${JSON.stringify(svg)}`);
    await clear("the server's SVG");
    await page.evaluate(
      `window.memfarmChart.draw(document.getElementById("chart-box"), ${JSON.stringify(data)})`,
    );
    await clear("the live redraw");
  });
});

interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  text: string;
}
