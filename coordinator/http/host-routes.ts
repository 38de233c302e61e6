import { type Request, Router } from "express";
import { NotFoundError, ValidationError } from "../../protocol/errors.ts";
import { checkAgentName } from "../../protocol/names.ts";
import { readObject } from "../../protocol/validate.ts";
import type { HostOperations } from "../hosts/host-operations.ts";
import { readAddHostRequest, readIdentity } from "../hosts/host-request.ts";
import type { HostsStore } from "../store/hosts-store.ts";
import { adapt } from "./handler.ts";

/**
 * `/hosts`: add, upgrade, remove and refresh hosts over SSH. Operations answer 202 at once;
 * `GET /hosts/:name?after=SEQ` returns the host with its log lines after SEQ, which the CLI polls.
 */
export function hostRoutes(
  authenticate: (req: Request) => string,
  hosts: HostsStore,
  operations: HostOperations,
): Router {
  const router = Router();
  router.get(
    "/",
    adapt(() => ({ status: 200, body: { hosts: hosts.list() } })),
  );
  router.post(
    "/",
    adapt(({ body }) => ({ status: 202, body: operations.add(readAddHostRequest(body)) }), authenticate),
  );
  router.get(
    "/:name",
    adapt(({ params, query }) => {
      const name = checkAgentName(params.name ?? "");
      const after = query.after === undefined ? 0 : Number(query.after);
      if (!Number.isInteger(after) || after < 0) {
        throw new ValidationError(
          "invalid_after",
          "after must be a log sequence number (0 for the whole log)",
          "after",
        );
      }
      const host = hosts.resource(name, after);
      if (!host) throw new NotFoundError(`no host named ${name}; memfarm hosts lists them`);
      return { status: 200, body: host };
    }),
  );
  const actions = {
    upgrade: (name: string, body: unknown) =>
      operations.upgrade(name, readIdentity(readObject(body ?? {}, "body"))),
    remove: (name: string, body: unknown) =>
      operations.remove(name, readIdentity(readObject(body ?? {}, "body"))),
    facts: (name: string, body: unknown) =>
      operations.refreshFacts(name, readIdentity(readObject(body ?? {}, "body"))),
  };
  for (const [action, run] of Object.entries(actions)) {
    router.post(
      `/:name/${action}`,
      adapt(
        ({ params, body }) => ({ status: 202, body: run(checkAgentName(params.name ?? ""), body) }),
        authenticate,
      ),
    );
  }
  return router;
}
