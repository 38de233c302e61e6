import { type Request, Router } from "express";
import type { WatchService } from "../watches/watch-service.ts";
import { adapt } from "./handler.ts";
import { jsonObjectWith } from "./json-text.ts";

/**
 * `/watches`: watched branches. Reads are open like the job list; adding, pausing, resuming,
 * checking now and removing need a token.
 */
export function watchRoutes(authenticate: (req: Request) => string, watches: WatchService): Router {
  const router = Router();
  router.get(
    "/",
    adapt(() => ({ status: 200, body: { watches: watches.list() } })),
  );
  router.post(
    "/",
    adapt(({ body, requester }) => ({ status: 201, body: watches.add(body, requester) }), authenticate),
  );
  router.get(
    "/:name",
    adapt(({ params }) => ({ status: 200, body: watches.find(params.name ?? "") })),
  );
  router.get(
    "/:name/history",
    adapt(({ params, query }) => {
      const { watch, test, runs } = watches.history(params.name ?? "", query.test, query.limit);
      return { status: 200, body: jsonObjectWith({ watch, test }, "runs", runs.runsJson, runs.etag) };
    }),
  );
  router.post(
    "/:name/pause",
    adapt(({ params }) => ({ status: 200, body: watches.pause(params.name ?? "") }), authenticate),
  );
  router.post(
    "/:name/resume",
    adapt(({ params }) => ({ status: 200, body: watches.resume(params.name ?? "") }), authenticate),
  );
  router.post(
    "/:name/check",
    adapt(
      async ({ params }) => ({ status: 200, body: await watches.checkNow(params.name ?? "") }),
      authenticate,
    ),
  );
  router.delete(
    "/:name",
    adapt(({ params }) => ({ status: 200, body: watches.remove(params.name ?? "") }), authenticate),
  );
  return router;
}
