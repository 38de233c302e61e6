import type { AgentResource } from "../../protocol/resources.ts";
import { CliError } from "../client.ts";
import type { CommandContext } from "../context.ts";
import { createClient } from "../context.ts";
import { ExitCode } from "../exit-codes.ts";
import { agentsTable } from "../format.ts";
import { GLOBAL_OPTIONS, parseCommand } from "../parse.ts";

/** `memfarm hosts`, `memfarm hosts drain NAME`, `memfarm hosts undrain NAME`. */
export async function hostsCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("hosts", context.args, GLOBAL_OPTIONS);
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  const [action, name] = positionals;
  if (action === undefined) {
    const { agents } = await client.get<{ agents: AgentResource[] }>("/agents");
    if (values.json) context.stdout(`${JSON.stringify({ agents })}\n`);
    else context.stdout(agents.length === 0 ? "no agents have joined\n" : `${agentsTable(agents)}\n`);
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
  if (["add", "upgrade", "remove", "facts"].includes(action)) {
    throw new CliError(
      `memfarm hosts ${action} (hosts over SSH) is not available in this version yet`,
      ExitCode.usage,
    );
  }
  throw new CliError(`unknown hosts action "${action}"; see "memfarm hosts --help"`, ExitCode.usage);
}
