import { type Response, Router } from "express";
import { jobIdOrNull } from "../../protocol/ids.ts";
import { isFinalStatus } from "../../protocol/job-status.ts";
import { isAgentName, isTestName } from "../../protocol/names.ts";
import type { HostResource, JobResource } from "../../protocol/resources.ts";
import { buildSteps } from "../dashboard/build-steps.ts";
import { chartData, DEFAULT_BUCKETS } from "../dashboard/chart-data.ts";
import { chartGeometry } from "../dashboard/chart-geometry.ts";
import { compareJobs, GROWTH_THRESHOLD } from "../dashboard/compare-tests.ts";
import { downsample } from "../dashboard/downsample.ts";
import { explainOutcome } from "../dashboard/explain-outcome.ts";
import { hostPage } from "../dashboard/host-page.ts";
import { jobTimeline } from "../dashboard/job-timeline.ts";
import { failureLines } from "../dashboard/log-failures.ts";
import { pageDetail, pageLogTail } from "../dashboard/log-tail.ts";
import { noSamplesText } from "../dashboard/no-samples-text.ts";
import { overlayGeometry } from "../dashboard/overlay-geometry.ts";
import { readTestSort, sortLink, sortTests, TEST_SORT_KEYS } from "../dashboard/test-table.ts";
import { TREND_HEIGHT, TREND_WIDTH, trendGeometry } from "../dashboard/trend-geometry.ts";
import { BaseComparer } from "../github/base-comparison.ts";
import { reportComment, reportSummary } from "../github/job-report.ts";
import { jobReportInput } from "../github/job-report-input.ts";
import type { Store } from "../store/store.ts";
import type { WatchService } from "../watches/watch-service.ts";
import { renderHostList } from "./host-list-page.ts";
import { renderJobList } from "./job-list-page.ts";
import { fmt, jsonForScript } from "./view-format.ts";

/** The job page shows the log's tail; the whole log is a download. */
const LOG_TAIL_LINES = 2000;
/** The failures-only view reads this much of a log at most (a bigmem -v log has about 100,000 lines). */
const LOG_FAILURES_SCAN = 500_000;
/** How many of a watch's runs its trend chart draws. */
const TREND_RUNS = 200;

export interface DashboardPagesDeps {
  store: Store;
  /** A watch's history, from memory while it is unchanged. */
  watches: WatchService;
  suiteNames: string[];
  exampleSubmit: string;
}

const common = { fmt, jsonForScript };

export function renderNotFound(res: Response, heading: string, message: string): void {
  res.status(404).render("error", { ...common, heading, message });
}

/** Server-rendered pages: jobs, one job, hosts, one SSH host, a comparison, sign-in. Complete without JavaScript. */
export function dashboardPages(deps: DashboardPagesDeps): Router {
  const { store } = deps;
  const router = Router();
  const findJob = (text: unknown): JobResource | null => {
    const id = jobIdOrNull(text);
    return id === null ? null : store.jobs.get(id);
  };
  const comparer = new BaseComparer(store.jobs, store.tests);
  // The latest run of the job's suite on its PR's base branch (main for any other job of a
  // repository): the job a PR's comment compares with, one click from the job's page.
  const baseRun = (job: JobResource) => {
    if (job.repo === null) return null;
    const ref = job.provenance.pullRequest?.baseRef ?? "main";
    const found = store.jobs.latestVerdictOnRef({ suite: job.suite, repo: job.repo, ref, before: job.id });
    return found ? { ...found, ref } : null;
  };
  const findHost = (text: unknown): HostResource | null =>
    typeof text === "string" && isAgentName(text) ? store.hosts.resource(text) : null;

  router.get("/", (req, res) => renderJobList(res, deps, req.query));

  // One row of the job list, for the list's script to insert or refresh a job live.
  router.get("/jobs/:id/row", (req, res) => {
    const job = findJob(req.params.id);
    if (!job) return renderNotFound(res, "No such job", `There is no job ${req.params.id}.`);
    res.render("partials/job-row", { ...common, job });
  });

  router.get("/jobs/:id", (req, res) => {
    const job = findJob(req.params.id);
    if (!job) return renderNotFound(res, "No such job", `There is no job ${req.params.id}.`);
    const log = store.logs.tail(job.id, LOG_TAIL_LINES);
    // `?log=failures`: only the lines that say something failed, and whole tracebacks, of the whole log.
    const failuresOnly = req.query.log === "failures";
    const shown = failuresOnly
      ? pageLogTail(failureLines(store.logs.read(job.id, 0, LOG_FAILURES_SCAN)))
      : pageLogTail(log.lines);
    const tests = store.tests.list(job.id).map((test) => ({ ...test, detail: pageDetail(test.detail) }));
    const sort = readTestSort(req.query.sort);
    const ran = tests.filter((test) => test.outcome !== "skipped");
    const chart = chartGeometry(chartData(job, store.samples.chartPoints(job.id, DEFAULT_BUCKETS), tests));
    // A watch's job: the run of the same watch before it, to compare with.
    const previousRun = job.provenance.watch
      ? (deps.watches.runs(job.provenance.watch, null, 500).find((run) => run.jobId < job.id) ?? null)
      : null;
    // The report a PR gets, to paste by hand; the job's link is this page as the reader sees it.
    const report = isFinalStatus(job.status)
      ? jobReportInput(store.tests, comparer, job, `${req.protocol}://${req.get("host")}/jobs/${job.id}`)
      : null;
    res.render("job", {
      ...common,
      job,
      baseRun: baseRun(job),
      markdown: report ? { comment: reportComment(report), summary: reportSummary(report) } : null,
      previousRun,
      log: shown.lines,
      failuresOnly,
      // Steps link to their first line when the page shows it.
      steps: buildSteps(job, store.logs.systemLines(job.id)),
      shownLineNos: new Set(shown.lines.map((line) => line.lineNo)),
      logArchive: store.logs.archive(job.id),
      logLineCount: log.lastLine,
      lastLine: log.lastLine,
      final: isFinalStatus(job.status),
      ranTests: sortTests(ran, sort),
      skippedTests: tests.filter((test) => test.outcome === "skipped"),
      failures: tests.filter((test) => ["failed", "error", "timed_out"].includes(test.outcome)),
      sort,
      sortKeys: TEST_SORT_KEYS,
      sortLink: (key: (typeof TEST_SORT_KEYS)[number]) => sortLink(sort, key),
      explanation: explainOutcome(job, tests),
      timeline: jobTimeline(job),
      chart,
      noSamplesText: noSamplesText(job),
    });
  });

  router.get("/regressions", (req, res) => {
    const all = req.query.state === "all";
    res.render("regressions", {
      ...common,
      all,
      regressions: store.regressions.list({ open: all ? undefined : true, limit: 500 }),
    });
  });

  // One regression and its bisection: the culprit, the range, every probe job and its verdict.
  router.get("/regressions/:id", (req, res) => {
    const id = jobIdOrNull(req.params.id);
    const regression = id === null ? null : store.regressions.get(id);
    if (!regression) {
      return renderNotFound(res, "No such regression", `There is no regression ${req.params.id}.`);
    }
    const bisection = store.bisections.get(regression.id);
    const verdictOf = new Map<string, string>();
    for (const probe of bisection?.probes ?? []) {
      if (probe.purpose === "probe" && probe.verdict) verdictOf.set(probe.sha, probe.verdict);
    }
    res.render("regression", { ...common, regression, bisection, verdictOf });
  });

  router.get("/watches", (_req, res) => {
    res.render("watches", { ...common, watches: store.watches.list() });
  });

  // A watch and the heads it saw, newest first, each with its job's outcome (like buildbot's console).
  router.get("/watches/:name", (req, res) => {
    const watch = store.watches.get(req.params.name);
    if (!watch) return renderNotFound(res, "No such watch", `No watch is named ${req.params.name}.`);
    const commits = watch.commits.map((commit) => ({
      ...commit,
      job: commit.jobId === null ? null : store.jobs.get(commit.jobId),
    }));
    // The tests of the latest run to choose from, and the chosen one's peak over the last runs.
    const latest = commits.find((commit) => commit.job !== null)?.job;
    const testNames = latest
      ? store.tests
          .list(latest.id)
          .filter((test) => test.kind === "file")
          .map((test) => test.name)
      : [];
    const test = typeof req.query.test === "string" && isTestName(req.query.test) ? req.query.test : null;
    const trend = test === null ? null : trendGeometry(deps.watches.runs(watch.name, test, TREND_RUNS));
    res.render("watch", {
      ...common,
      watch,
      commits,
      testNames,
      test,
      trend,
      trendSize: { width: TREND_WIDTH, height: TREND_HEIGHT },
    });
  });

  router.get("/hosts", (_req, res) => renderHostList(res, store));

  // A host added over SSH: its record and whole step log; host.js follows a running operation.
  router.get("/hosts/:name", (req, res) => {
    const host = findHost(req.params.name);
    if (!host) {
      return renderNotFound(res, "No such host", `No host named ${req.params.name} was added over SSH.`);
    }
    res.render("host", { ...common, ...hostPage(host) });
  });

  router.get("/compare", (req, res) => {
    const base = findJob(req.query.base);
    const head = findJob(req.query.head);
    const missing = [
      ["base", req.query.base, base],
      ["head", req.query.head, head],
    ].filter(([, asked, found]) => asked !== undefined && asked !== "" && !found);
    res.status(missing.length > 0 ? 404 : 200).render("compare", {
      ...common,
      baseId: typeof req.query.base === "string" ? req.query.base : "",
      headId: typeof req.query.head === "string" ? req.query.head : "",
      missing: missing.map(([which, asked]) => `There is no ${which} job ${String(asked)}.`),
      // Ordered by change: the largest absolute delta first, whichever way it went.
      comparison:
        base && head ? compareJobs(base, store.tests.list(base.id), head, store.tests.list(head.id)) : null,
      // Both jobs' memory over time on one chart, each from its own start.
      overlay:
        base && head
          ? overlayGeometry(
              {
                jobId: base.id,
                buckets: downsample(store.samples.chartPoints(base.id, DEFAULT_BUCKETS), DEFAULT_BUCKETS),
                peakRssBytes: base.peakRssBytes,
              },
              {
                jobId: head.id,
                buckets: downsample(store.samples.chartPoints(head.id, DEFAULT_BUCKETS), DEFAULT_BUCKETS),
                peakRssBytes: head.peakRssBytes,
              },
            )
          : null,
      thresholdPercent: GROWTH_THRESHOLD * 100,
    });
  });

  router.get("/sign-in", (_req, res) => {
    res.render("sign-in", { ...common, error: null });
  });
  return router;
}
