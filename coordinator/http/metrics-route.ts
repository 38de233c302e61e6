import type { Request, Response } from "express";
import { ALL_STATUSES } from "../../protocol/job-status.ts";
import type { Store } from "../store/store.ts";
import { listAgents } from "./api-routes.ts";

/** `GET /metrics` in Prometheus's text format. */
export function metricsRoute(store: Store) {
  return (_req: Request, res: Response): void => {
    const counts = store.jobs.countByStatus();
    const agents = listAgents(store);
    const lines = [
      "# HELP memfarm_jobs Jobs in the store by status.",
      "# TYPE memfarm_jobs gauge",
      ...ALL_STATUSES.map((status) => `memfarm_jobs{status="${status}"} ${counts.get(status) ?? 0}`),
      "# HELP memfarm_agents Agents by state.",
      "# TYPE memfarm_agents gauge",
      ...["online", "draining", "lost"].map(
        (state) =>
          `memfarm_agents{state="${state}"} ${agents.filter((agent) => agent.state === state).length}`,
      ),
      "# HELP memfarm_agent_reserved_bytes Memory reserved by jobs on each agent.",
      "# TYPE memfarm_agent_reserved_bytes gauge",
      ...agents.map((agent) => `memfarm_agent_reserved_bytes{agent="${agent.name}"} ${agent.reservedBytes}`),
      "# HELP memfarm_agent_capacity_bytes Memory each agent offers to jobs.",
      "# TYPE memfarm_agent_capacity_bytes gauge",
      ...agents.map((agent) => `memfarm_agent_capacity_bytes{agent="${agent.name}"} ${agent.capacityBytes}`),
    ];
    res.type("text/plain; version=0.0.4").send(`${lines.join("\n")}\n`);
  };
}
