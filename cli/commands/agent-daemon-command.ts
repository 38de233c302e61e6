import { type AgentConfig, type AgentOptions, compileAgentConfig } from "../../agent/config.ts";
import { AgentDaemon } from "../../agent/daemon.ts";
import type { CommandContext } from "../context.ts";
import { parseCommand } from "../parse.ts";
import { drainMessage, loggerFor, runUntilSignal } from "../run-until-signal.ts";
import { flagOptions, loadSettings, type Settings } from "../settings/resolve.ts";
import type { EveryFieldIn } from "../settings/settings.ts";

// Each agent.* key of the settings table fills a field of the options.
true satisfies EveryFieldIn<"agent", AgentOptions>;

/** The agent's config from its settings: flags, environment, config file (cli/settings/). */
export function agentConfigFrom(settings: Settings): AgentConfig {
  const { values, names } = settings.section("agent");
  return compileAgentConfig(values, names);
}

/** `memfarm agent`: imports nothing of the coordinator, so the agent bundle (cli/agent-main.ts) stays small. */
export async function agentCommand(context: CommandContext): Promise<number> {
  const { values } = parseCommand("agent", context.args, {
    ...flagOptions("agent"),
    help: { type: "boolean", short: "h" },
  });
  const settings = loadSettings("agent", values, context.env);
  const log = loggerFor(settings.section("log"));
  const config = agentConfigFrom(settings);
  const agent = new AgentDaemon(config, log.child({ agent: config.name }));
  await agent.start();
  context.stdout(`agent ${config.name} joined the farm at ${config.natsServers.join(",")}\n`);
  return runUntilSignal(
    context,
    () => agent.stop(),
    () => agent.forceStop(),
    drainMessage(config.drainTimeoutMs),
  );
}
