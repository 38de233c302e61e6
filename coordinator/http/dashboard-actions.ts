import express, { type NextFunction, type Request, type Response, Router } from "express";
import { ConflictError, coerceError, MemfarmError, NotFoundError } from "../../protocol/errors.ts";
import { checkAgentName } from "../../protocol/names.ts";
import type { JobService } from "../job-service.ts";
import type { Store } from "../store/store.ts";
import { isSameOrigin, readCookie, SESSION_COOKIE, sessionCookie } from "./dashboard-session.ts";
import { fmt, jsonForScript } from "./view-format.ts";

export interface DashboardActionsDeps {
  store: Store;
  jobs: JobService;
  wakeScheduler: () => void;
}

const common = { fmt, jsonForScript };

function renderRefusal(res: Response, status: number, heading: string, message: string): void {
  res.status(status).render("error", { ...common, heading, message });
}

/** Every form post must come from this dashboard's own pages (CSRF). */
function requireSameOrigin(req: Request, res: Response, next: NextFunction): void {
  if (isSameOrigin(req)) {
    next();
    return;
  }
  renderRefusal(
    res,
    403,
    "Refused",
    "This form was not sent from a page of this dashboard (its Origin or Referer is another site, or missing), so nothing was changed.",
  );
}

/** Changing the farm needs a signed-in person; the pages hide these forms otherwise. */
function requireSession(_req: Request, res: Response, next: NextFunction): void {
  if (res.locals.signedInAs) {
    next();
    return;
  }
  renderRefusal(
    res,
    401,
    "Sign in first",
    "Changing the farm needs a signed-in user: sign in with an API token.",
  );
}

/** Form fields as strings; a browser sends each at most once here. */
function field(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" ? value.trim() : "";
}

/** What the submit form asks for, as the API's job request (the same validation applies). */
function jobRequestFromForm(req: Request): Record<string, unknown> {
  const body: Record<string, unknown> = { suite: field(req, "suite"), source: "dashboard" };
  for (const name of ["python", "ref", "repo", "memlimit", "priority"]) {
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
 * The dashboard's form posts: sign in and out, submit and cancel jobs, drain
 * and undrain hosts. Each answers with a redirect (post/redirect/get) or a
 * page that says what went wrong.
 */
export function dashboardActions(deps: DashboardActionsDeps): Router {
  const { store } = deps;
  const router = Router();
  const forPosts =
    (middleware: (req: Request, res: Response, next: NextFunction) => void) =>
    (req: Request, res: Response, next: NextFunction) =>
      req.method === "POST" ? middleware(req, res, next) : next();
  router.use(forPosts(express.urlencoded({ extended: false, limit: "16kb", parameterLimit: 20 })));
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
      next(thrown);
    }
  });

  router.post("/jobs/:id/cancel", requireSession, async (req, res, next) => {
    try {
      const id = /^\d{1,15}$/.test(String(req.params.id)) ? Number(req.params.id) : 0;
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

  // A refused request (bad input, a finished job) is a page that says what to change, not JSON.
  router.use((thrown: unknown, _req: Request, res: Response, next: NextFunction) => {
    const error = coerceError(thrown);
    if (!(error instanceof MemfarmError)) return next(thrown);
    const status = error instanceof NotFoundError ? 404 : error instanceof ConflictError ? 409 : 400;
    renderRefusal(res, status, "Not done", error.message);
  });
  return router;
}
