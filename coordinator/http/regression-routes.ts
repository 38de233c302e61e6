import { type Request, Router } from "express";
import { NotFoundError, ValidationError } from "../../protocol/errors.ts";
import { jobIdOrNull } from "../../protocol/ids.ts";
import type { RegressionResource } from "../../protocol/resources.ts";
import type { BisectionsStore } from "../store/bisections-store.ts";
import type { RegressionsStore } from "../store/regressions-store.ts";
import { adapt } from "./handler.ts";

/** `/regressions`: what the watches found got worse; `?state=open|closed|all` (open by default). */
export function regressionRoutes(
  authenticate: (req: Request) => string,
  regressions: RegressionsStore,
  bisections: BisectionsStore,
): Router {
  const router = Router();
  /** A regression with its bisection: the culprit, the jobs it ran. */
  const withBisection = (regression: RegressionResource): RegressionResource => ({
    ...regression,
    bisection: bisections.get(regression.id),
  });
  router.get(
    "/",
    adapt(({ query }) => {
      const state = query.state ?? "open";
      if (!["open", "closed", "all"].includes(state)) {
        throw new ValidationError("invalid_state", "state must be open, closed or all", "state");
      }
      const open = state === "all" ? undefined : state === "open";
      return {
        status: 200,
        body: { regressions: regressions.list({ open, watch: query.watch, limit: 500 }).map(withBisection) },
      };
    }),
  );
  const find = (text: string | undefined) => {
    const id = jobIdOrNull(text);
    const regression = id === null ? null : regressions.get(id);
    if (!regression) throw new NotFoundError(`no regression ${text}; memfarm regressions lists them`);
    return withBisection(regression);
  };
  router.get(
    "/:id",
    adapt(({ params }) => ({ status: 200, body: find(params.id) })),
  );
  router.post(
    "/:id/close",
    adapt(({ params, requester }) => {
      const regression = find(params.id);
      regressions.close(regression.id, `closed by ${requester}`);
      return { status: 200, body: find(params.id) };
    }, authenticate),
  );
  return router;
}
