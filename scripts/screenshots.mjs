// Makes the README's and docs/dashboard.md's screenshots from a running farm's real jobs:
// docs/job-page.png (the whole page of JOB) and docs/compare-page.png (BASE_JOB against JOB).
//
//   MEMFARM_URL=http://127.0.0.1:8080 MEMFARM_TOKEN=... node scripts/screenshots.mjs JOB BASE_JOB
//
// Use two finished bigmem-smoke jobs (`node dist/cli/main.js submit bigmem-smoke --python /usr/bin/python3 --follow`,
// twice). The token comes from the environment, not the command line, so `ps` does not show it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [job, base] = process.argv.slice(2);
const url = process.env.MEMFARM_URL;
const token = process.env.MEMFARM_TOKEN;
if (!url || !token || !/^\d+$/.test(job ?? "") || !/^\d+$/.test(base ?? "")) {
  console.error("usage: MEMFARM_URL=URL MEMFARM_TOKEN=TOKEN node scripts/screenshots.mjs JOB BASE_JOB");
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), "memfarm-screenshots-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.MEMFARM_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu"],
  viewport: { width: 1200, height: 900 },
});
try {
  const page = await context.newPage();
  await page.goto(`${url}/sign-in`);
  await page.fill("input[name='token']", token);
  await Promise.all([page.waitForURL(`${url}/`), page.click("form[action='/sign-in'] button")]);
  await page.goto(`${url}/jobs/${job}`);
  await page.waitForSelector("svg");
  await page.screenshot({ path: join("docs", "job-page.png"), fullPage: true });
  await page.goto(`${url}/compare?base=${base}&head=${job}`);
  await page.screenshot({ path: join("docs", "compare-page.png"), fullPage: true });
  console.log("wrote docs/job-page.png and docs/compare-page.png");
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
