import { compileAgentConfig } from "../../agent/config.ts";
import { AgentDaemon } from "../../agent/daemon.ts";
import { parseDuration } from "../../protocol/durations.ts";
import type { CommandContext } from "../context.ts";
import { parseCommand } from "../parse.ts";
import { drainMessage, LOG_OPTIONS, loggerFor, runUntilSignal } from "../run-until-signal.ts";

/** `memfarm agent`: imports nothing of the coordinator, so the agent bundle (cli/agent-main.ts) stays small. */
export async function agentCommand(context: CommandContext): Promise<number> {
  const { values } = parseCommand("agent", context.args, {
    nats: { type: "string" },
    creds: { type: "string" },
    name: { type: "string" },
    memory: { type: "string" },
    labels: { type: "string" },
    "work-dir": { type: "string" },
    "allow-local-repos": { type: "boolean" },
    "no-new-jobs": { type: "string" },
    "sample-interval-ms": { type: "string" },
    "drain-timeout": { type: "string" },
    ...LOG_OPTIONS,
    help: { type: "boolean", short: "h" },
  });
  const log = loggerFor(context, values);
  const config = compileAgentConfig({
    nats: values.nats,
    creds: values.creds,
    name: values.name,
    memory: values.memory,
    labels: values.labels,
    workDir: values["work-dir"],
    sampleIntervalMs:
      values["sample-interval-ms"] === undefined
        ? undefined
        : parseDuration(values["sample-interval-ms"], "--sample-interval-ms", { plainUnit: "ms" }),
    allowLocalRepos: values["allow-local-repos"] === true,
    noNewJobs: values["no-new-jobs"],
    drainTimeout: values["drain-timeout"],
  });
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
