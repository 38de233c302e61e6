import express, { type NextFunction, type Request, type Response, Router } from "express";
import { ConflictError, coerceError, MemfarmError, NotFoundError } from "../../protocol/errors.ts";
import { parseJobId } from "../../protocol/ids.ts";
import { checkAgentName } from "../../protocol/names.ts";
import type { HostOperations } from "../hosts/host-operations.ts";
import type { JobService } from "../jobs/job-service.ts";
import type { Store } from "../store/store.ts";
import { field, renderRefusal, requireSameOrigin, requireSession } from "./dashboard-guards.ts";
import { dashboardHostActions } from "./dashboard-host-actions.ts";
import { readCookie, SESSION_COOKIE, sessionCookie } from "./dashboard-session.ts";
import { refusedForm } from "./form-state.ts";
import { renderJobList } from "./job-list-page.ts";
import { fmt, jsonForScript } from "./view-format.ts";

export interface DashboardActionsDeps {
  store: Store;
  jobs: JobService;
  suiteNames: string[];
  exampleSubmit: string;
  wakeScheduler: () => void;
  hostOperations: HostOperations;
}

const common = { fmt, jsonForScript };

/** The submit form's fields: all are shown again when a submission is refused. */
const SUBMIT_FIELDS = ["suite", "python", "ref", "repo", "memlimit", "workers", "priority", "tests"] as const;

/** What the submit form asks for, as the API's job request (the same validation applies). */
function jobRequestFromForm(req: Request): Record<string, unknown> {
  const body: Record<string, unknown> = { suite: field(req, "suite"), source: "dashboard" };
  for (const name of ["python", "ref", "repo", "memlimit", "workers", "priority"]) {
    const value = field(req, name);
    if (value !== "") body[name] = value;
  }
  const tests = field(req, "tests")
    .split(/[\s,]+/)
    .filter((name) => name !== "");
  if (tests.length > 0) body.tests = tests;
  return body;
}

/**
 * The dashboard's form posts: sign in and out, submit, cancel and retry jobs,
 * drain and undrain hosts, and the SSH host operations (dashboard-host-actions.ts).
 * Each answers with a redirect (post/redirect/get); a refused form with input
 * (submit, add a host) comes back with the error beside its field and what was
 * typed, any other refusal is a page that says what went wrong.
 */
export function dashboardActions(deps: DashboardActionsDeps): Router {
  const { store } = deps;
  const router = Router();
  const forPosts =
    (middleware: (req: Request, res: Response, next: NextFunction) => void) =>
    (req: Request, res: Response, next: NextFunction) =>
      req.method === "POST" ? middleware(req, res, next) : next();
  // 64 KiB: the host forms carry a private key (an RSA-4096 key is ~3.3 KiB, more once form-encoded).
  router.use(forPosts(express.urlencoded({ extended: false, limit: "64kb", parameterLimit: 20 })));
  router.use(forPosts(requireSameOrigin));

  router.post("/sign-in", (req, res) => {
    const token = field(req, "token");
    const owner = token === "" ? null : store.tokens.ownerOf(token);
    if (!owner) {
      res.status(401).render("sign-in", {
        ...common,
        error:
          "That token is not valid (unknown or revoked). Paste an API token from memfarm tokens create, or the farm's admin token.",
      });
      return;
    }
    res.set("set-cookie", sessionCookie(req, store.sessions.open(token)));
    res.redirect(303, "/");
  });

  router.post("/sign-out", (req, res) => {
    const id = readCookie(req.get("cookie"), SESSION_COOKIE);
    if (id) store.sessions.close(id);
    res.set("set-cookie", sessionCookie(req, null));
    res.redirect(303, "/");
  });

  router.post("/jobs", requireSession, async (req, res, next) => {
    try {
      const job = await deps.jobs.submit(jobRequestFromForm(req), res.locals.signedInAs as string);
      res.redirect(303, `/jobs/${job.id}`);
    } catch (thrown) {
      // Bad input: the job list again, the form open with what was typed and the error beside its field.
      const error = coerceError(thrown);
      if (!(error instanceof MemfarmError)) return next(thrown);
      renderJobList(res, deps, {}, refusedForm(req, error, SUBMIT_FIELDS), 400);
    }
  });

  // Run a finished job again as a new job (the API's retry), then show the new one.
  router.post("/jobs/:id/retry", requireSession, async (req, res, next) => {
    try {
      const copy = await deps.jobs.retry(parseJobId(req.params.id), res.locals.signedInAs as string);
      res.redirect(303, `/jobs/${copy.id}`);
    } catch (thrown) {
      next(thrown);
    }
  });

  router.post("/jobs/:id/cancel", requireSession, async (req, res, next) => {
    try {
      const id = parseJobId(req.params.id);
      await deps.jobs.cancel(id);
      res.redirect(303, `/jobs/${id}`);
    } catch (thrown) {
      next(thrown);
    }
  });

  for (const action of ["drain", "undrain"] as const) {
    router.post(`/hosts/:name/${action}`, requireSession, (req, res, next) => {
      try {
        const name = checkAgentName(String(req.params.name));
        if (!store.agents.setDrained(name, action === "drain")) {
          return renderRefusal(res, 404, "No such host", `Agent ${name} has never joined.`);
        }
        deps.wakeScheduler();
        res.redirect(303, "/hosts");
      } catch (thrown) {
        next(thrown);
      }
    });
  }

  router.use(dashboardHostActions(deps.hostOperations, store));

  // A refused request (bad input, a finished job) is a page that says what to change, not JSON.
  router.use((thrown: unknown, _req: Request, res: Response, next: NextFunction) => {
    const error = coerceError(thrown);
    if (!(error instanceof MemfarmError)) return next(thrown);
    const status = error instanceof NotFoundError ? 404 : error instanceof ConflictError ? 409 : 400;
    renderRefusal(res, status, "Not done", error.message);
  });
  return router;
}
