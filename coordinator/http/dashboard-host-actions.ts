import { Router } from "express";
import { coerceError, MemfarmError } from "../../protocol/errors.ts";
import { checkAgentName } from "../../protocol/names.ts";
import type { HostOperations } from "../hosts/host-operations.ts";
import { readAddHostRequest, readIdentity } from "../hosts/host-request.ts";
import type { Store } from "../store/store.ts";
import { requireSession } from "./dashboard-guards.ts";
import { refusedForm } from "./form-state.ts";
import { ADD_HOST_KEPT_FIELDS, addHostBodyFromForm, identityBodyFromForm } from "./host-form.ts";
import { renderHostList } from "./host-list-page.ts";

const hostPage = (name: string) => `/hosts/${encodeURIComponent(name)}`;

/**
 * The hosts page's forms: add a host over SSH, upgrade it, refresh its facts, remove it. They run
 * the API's operations with the API's validation and answer with the host's page, which follows
 * the step log; an add the API refuses shows the hosts page again with the error beside its field. The private key is read from the post body and handed to the operation in memory;
 * it is never logged, stored, rendered or redirected with. Mounted behind the form parser and the
 * same-origin check of dashboard-actions.ts.
 */
export function dashboardHostActions(operations: HostOperations, store: Store): Router {
  const router = Router();

  router.post("/hosts", requireSession, (req, res, next) => {
    try {
      const host = operations.add(readAddHostRequest(addHostBodyFromForm(req)));
      res.redirect(303, hostPage(host.name));
    } catch (thrown) {
      // Bad input: the hosts page again, the form open with what was typed (but the key) and the error.
      const error = coerceError(thrown);
      if (!(error instanceof MemfarmError)) return next(thrown);
      const form = refusedForm(req, error, ADD_HOST_KEPT_FIELDS, [
        ...ADD_HOST_KEPT_FIELDS,
        "identity",
        "passphrase",
      ]);
      renderHostList(res, store, form, 400);
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
