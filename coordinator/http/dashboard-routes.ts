import { Router } from "express";
import type { HostOperations } from "../hosts/host-operations.ts";
import type { JobService } from "../jobs/job-service.ts";
import type { Store } from "../store/store.ts";
import type { WatchService } from "../watches/watch-service.ts";
import { dashboardActions } from "./dashboard-actions.ts";
import { dashboardPages, renderNotFound } from "./dashboard-pages.ts";
import { sessionMiddleware } from "./dashboard-session.ts";

export interface DashboardDeps {
  store: Store;
  jobs: JobService;
  suiteNames: string[];
  exampleSubmit: string;
  wakeScheduler: () => void;
  hostOperations: HostOperations;
  watches: WatchService;
}

/**
 * The dashboard: read-only pages for everyone (like buildbot.python.org), and
 * forms that change the farm for people signed in with an API token.
 */
export function dashboardRoutes(deps: DashboardDeps): Router {
  const router = Router();
  router.use(sessionMiddleware(deps.store.sessions));
  router.use(dashboardPages(deps));
  router.use(dashboardActions(deps));
  router.use((_req, res) => renderNotFound(res, "Not found", "There is no such page."));
  return router;
}
