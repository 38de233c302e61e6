import type { AgentResource, CoordinatorVersionResource, HostResource } from "../../protocol/resources.ts";
import { CliError } from "../client.ts";
import type { CommandContext } from "../context.ts";
import { createClient } from "../context.ts";
import { ExitCode } from "../exit-codes.ts";
import { agentsTable } from "../format.ts";
import { GLOBAL_OPTIONS, parseCommand } from "../parse.ts";
import { followHostOperation, readIdentity } from "./ssh-host-commands.ts";

const HOST_OPTIONS = {
  ...GLOBAL_OPTIONS,
  identity: { type: "string" },
  name: { type: "string" },
  labels: { type: "string" },
  "accept-new": { type: "boolean" },
  fingerprint: { type: "string" },
  memory: { type: "string" },
  "no-new-jobs": { type: "string" },
  "drain-timeout": { type: "string" },
  "build-cache-size": { type: "string" },
} as const;

/** `memfarm hosts`, `hosts drain|undrain NAME`, and over SSH `hosts add TARGET`, `hosts upgrade|remove|facts NAME`. */
export async function hostsCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("hosts", context.args, HOST_OPTIONS);
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  const [action, name] = positionals;
  if (action === undefined) {
    const { agents, coordinator } = await client.get<{
      agents: AgentResource[];
      coordinator?: CoordinatorVersionResource;
    }>("/agents");
    if (values.json) {
      context.stdout(`${JSON.stringify({ agents, ...(coordinator ? { coordinator } : {}) })}\n`);
      return ExitCode.ok;
    }
    context.stdout(agents.length === 0 ? "no agents have joined\n" : `${agentsTable(agents)}\n`);
    // A coordinator from before versions says none.
    if (coordinator) {
      context.stdout(
        `coordinator ${coordinator.version} (protocol ${coordinator.protocolVersion}) takes agents ${coordinator.takesAgents}\n`,
      );
    }
    return ExitCode.ok;
  }
  if (action === "drain" || action === "undrain") {
    if (!name)
      throw new CliError(
        `memfarm hosts ${action} needs an agent name ("memfarm hosts" lists them)`,
        ExitCode.usage,
      );
    const agent = await client.post<AgentResource>(`/agents/${encodeURIComponent(name)}/${action}`);
    context.stdout(values.json ? `${JSON.stringify(agent)}\n` : `${agent.name}: ${agent.state}\n`);
    return ExitCode.ok;
  }
  if (action === "add") {
    if (!name) throw new CliError("memfarm hosts add needs ssh://USER@HOST[:PORT]", ExitCode.usage);
    const started = await client.post<HostResource>("/hosts", {
      target: name,
      ...readIdentity(values.identity, context.env),
      name: values.name,
      labels: values.labels,
      acceptNew: values["accept-new"] === true,
      fingerprint: values.fingerprint,
      memory: values.memory,
      noNewJobs: values["no-new-jobs"],
      drainTimeout: values["drain-timeout"],
      buildCacheSize: values["build-cache-size"],
    });
    return followHostOperation(context, client, started, values.json === true);
  }
  if (action === "upgrade" || action === "remove" || action === "facts") {
    if (!name) throw new CliError(`memfarm hosts ${action} needs a host name`, ExitCode.usage);
    const started = await client.post<HostResource>(
      `/hosts/${encodeURIComponent(name)}/${action}`,
      readIdentity(values.identity, context.env),
    );
    return followHostOperation(context, client, started, values.json === true);
  }
  throw new CliError(`unknown hosts action "${action}"; see "memfarm hosts --help"`, ExitCode.usage);
}
