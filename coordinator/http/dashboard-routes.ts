import { Router } from "express";
import { ALL_STATUSES, isFinalStatus } from "../../protocol/job-status.ts";
import type { TestResource } from "../../protocol/resources.ts";
import type { Store } from "../store/store.ts";
import { listAgents } from "./api-routes.ts";
import { fmt, jsonForScript, memoryChart } from "./view-format.ts";

const PAGE_SIZE = 50;
/** The job page shows the log's tail; the whole log is a download. */
const LOG_TAIL_LINES = 2000;

/** Tests that ran, largest peak first (the table a core developer wants), and the skipped ones apart. */
function splitTests(tests: TestResource[]): { ranTests: TestResource[]; skippedTests: TestResource[] } {
  const ranTests = tests
    .filter((test) => test.outcome !== "skipped")
    .sort((a, b) => (b.peakRssBytes ?? -1) - (a.peakRssBytes ?? -1));
  return { ranTests, skippedTests: tests.filter((test) => test.outcome === "skipped") };
}

export interface DashboardDeps {
  store: Store;
  suiteNames: string[];
  exampleSubmit: string;
}

/** Server-rendered pages: jobs, one job, hosts. Complete without JavaScript. */
export function dashboardRoutes(deps: DashboardDeps): Router {
  const { store } = deps;
  const router = Router();
  const common = { fmt, jsonForScript };

  router.get("/", (req, res) => {
    const status =
      typeof req.query.status === "string" && (ALL_STATUSES as readonly string[]).includes(req.query.status)
        ? req.query.status
        : undefined;
    const suite =
      typeof req.query.suite === "string" && deps.suiteNames.includes(req.query.suite)
        ? req.query.suite
        : undefined;
    const cursor =
      typeof req.query.cursor === "string" && /^\d+$/.test(req.query.cursor)
        ? Number(req.query.cursor)
        : undefined;
    const page = store.jobs.list({ status, suite, limit: PAGE_SIZE, before: cursor });
    const nextQuery = new URLSearchParams({
      ...(status ? { status } : {}),
      ...(suite ? { suite } : {}),
      cursor: page.nextCursor ?? "",
    });
    res.render("jobs", {
      ...common,
      jobs: page.jobs,
      nextCursor: page.nextCursor,
      nextQuery: nextQuery.toString(),
      filter: { status, suite },
      statuses: ALL_STATUSES,
      suites: deps.suiteNames,
      exampleSubmit: deps.exampleSubmit,
    });
  });

  router.get("/jobs/:id", (req, res) => {
    const id = /^\d{1,15}$/.test(req.params.id) ? Number(req.params.id) : 0;
    const job = id > 0 ? store.jobs.get(id) : null;
    if (!job) {
      res
        .status(404)
        .render("error", { heading: "No such job", message: `There is no job ${req.params.id}.` });
      return;
    }
    const all = store.logs.read(job.id);
    const log = all.slice(-LOG_TAIL_LINES);
    res.render("job", {
      ...common,
      job,
      log,
      lastLine: all.at(-1)?.lineNo ?? 0,
      final: isFinalStatus(job.status),
      ...splitTests(store.tests.list(job.id)),
      chart: memoryChart(store.samples.read(job.id), job.peakRssBytes, job.memlimitBytes),
    });
  });

  router.get("/hosts", (_req, res) => {
    // SSH hosts with the last lines of their step log: what the last operation did, or why it failed.
    const sshHosts = store.hosts
      .list()
      .map((host) => ({ ...host, log: (store.hosts.resource(host.name)?.log ?? []).slice(-8) }));
    res.render("hosts", { ...common, agents: listAgents(store), sshHosts });
  });
  return router;
}
