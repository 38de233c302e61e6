import type { Response } from "express";
import { hostBar } from "../dashboard/host-bar.ts";
import type { Store } from "../store/store.ts";
import { listAgents } from "./api-routes.ts";
import { type FormState, FRESH_FORM } from "./form-state.ts";
import { fmt, jsonForScript } from "./view-format.ts";

/**
 * The hosts page: the agents with their memory bars, and the hosts added over SSH. `addHost` is a
 * refused add-host form to show again (POST /hosts), open, with its values and its error.
 */
export function renderHostList(
  res: Response,
  store: Store,
  addHost: FormState = FRESH_FORM,
  status = 200,
): void {
  const agents = listAgents(store).map((agent) => ({ ...agent, bar: hostBar(agent) }));
  // SSH hosts with the last lines of their step log: what the last operation did, or why it failed.
  const sshHosts = store.hosts
    .list()
    .map((host) => ({ ...host, log: (store.hosts.resource(host.name)?.log ?? []).slice(-8) }));
  res.status(status).render("hosts", { fmt, jsonForScript, agents, sshHosts, addHost });
}
