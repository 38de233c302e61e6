import { Router } from "express";
import { checkAgentName } from "../../protocol/names.ts";
import type { HostOperations } from "../hosts/host-operations.ts";
import { readAddHostRequest, readIdentity } from "../hosts/host-request.ts";
import { requireSession } from "./dashboard-guards.ts";
import { addHostBodyFromForm, identityBodyFromForm } from "./host-form.ts";

const hostPage = (name: string) => `/hosts/${encodeURIComponent(name)}`;

/**
 * The hosts page's forms: add a host over SSH, upgrade it, refresh its facts, remove it. They run
 * the API's operations with the API's validation and answer with the host's page, which follows
 * the step log. The private key is read from the post body and handed to the operation in memory;
 * it is never logged, stored, rendered or redirected with. Mounted behind the form parser and the
 * same-origin check of dashboard-actions.ts.
 */
export function dashboardHostActions(operations: HostOperations): Router {
  const router = Router();

  router.post("/hosts", requireSession, (req, res, next) => {
    try {
      const host = operations.add(readAddHostRequest(addHostBodyFromForm(req)));
      res.redirect(303, hostPage(host.name));
    } catch (thrown) {
      next(thrown);
    }
  });

  const run = {
    upgrade: operations.upgrade.bind(operations),
    remove: operations.remove.bind(operations),
    facts: operations.refreshFacts.bind(operations),
  };
  for (const [action, operation] of Object.entries(run)) {
    router.post(`/hosts/:name/${action}`, requireSession, (req, res, next) => {
      try {
        const name = checkAgentName(String(req.params.name));
        const host = operation(name, readIdentity(identityBodyFromForm(req)));
        res.redirect(303, hostPage(host.name));
      } catch (thrown) {
        next(thrown);
      }
    });
  }
  return router;
}
