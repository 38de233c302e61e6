import { join } from "node:path";
import { compileAgentConfig, defaultAgentName } from "../../agent/config.ts";
import { AgentDaemon } from "../../agent/daemon.ts";
import { compileCoordinatorConfig } from "../../coordinator/config.ts";
import { Coordinator, EXAMPLE_SUBMIT } from "../../coordinator/coordinator.ts";
import { DEFAULT_HTTP_PORT } from "../../protocol/coordinator-address.ts";
import type { CommandContext } from "../context.ts";
import { parseCommand } from "../parse.ts";
import { drainMessage, loggerFor, runUntilSignal } from "../run-until-signal.ts";

const COORDINATOR_OPTIONS = {
  port: { type: "string" },
  host: { type: "string" },
  "data-dir": { type: "string" },
  nats: { type: "string" },
  creds: { type: "string" },
  "nats-port": { type: "string" },
  "advertise-nats": { type: "string" },
  "jobs-dir": { type: "string" },
  headroom: { type: "string" },
  "lost-after": { type: "string" },
  "stream-replicas": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type CoordinatorValues = Partial<Record<Exclude<keyof typeof COORDINATOR_OPTIONS, "help">, string>>;

function coordinatorConfigFrom(values: CoordinatorValues, env: NodeJS.ProcessEnv) {
  return compileCoordinatorConfig(
    {
      port: values.port,
      host: values.host,
      dataDir: values["data-dir"],
      nats: values.nats,
      natsCreds: values.creds,
      natsPort: values["nats-port"],
      advertiseNats: values["advertise-nats"],
      jobsDir: values["jobs-dir"],
      headroom: values.headroom,
      lostAfter: values["lost-after"],
      streamReplicas: values["stream-replicas"],
    },
    env,
  );
}

/** The --url a printed command needs: none when the coordinator is where the CLI looks by default. */
function urlOption(coordinator: Coordinator): string {
  return coordinator.config.port === DEFAULT_HTTP_PORT ? "" : ` --url ${coordinator.httpUrl}`;
}

/** How an agent joins: the exact command with its credentials file, or how to get one first. */
type JoinHint = { kind: "local"; name: string; credsFile: string } | { kind: "issue"; name: string };

function joinLines(coordinator: Coordinator, hint: JoinHint): string[] {
  const nats = coordinator.advertisedNats.join(",");
  if (hint.kind === "local") {
    return [
      "Join an agent on this machine to the farm:",
      `  memfarm agent --nats ${nats} --creds ${hint.credsFile} --name ${hint.name}`,
    ];
  }
  const file = `${hint.name}.nk`;
  return [
    "Join an agent to the farm (credentials for that host alone, then the agent):",
    `  memfarm agents creds ${hint.name} --output ${file}${urlOption(coordinator)}`,
    ...(coordinator.managesNats
      ? []
      : [
          `  (then include ${coordinator.natsAuthority.authorizationFile} in the nats-server config and reload it)`,
        ]),
    `  memfarm agent --nats ${nats} --creds ${file} --name ${hint.name}`,
  ];
}

function printReady(
  context: CommandContext,
  coordinator: Coordinator,
  joinHelp: string[],
  extra: string[] = [],
): void {
  context.stdout(
    [
      "",
      `memfarm is running.`,
      `  Dashboard:  ${coordinator.httpUrl}/`,
      `  API:        ${coordinator.httpUrl}/api/v1`,
      `  NATS:       ${coordinator.natsUrls.join(",")}`,
      `  Admin token in ${join(coordinator.config.dataDir, "admin-token")}`,
      ...extra,
      "",
      ...joinHelp,
      "",
      "Run a first job:",
      `  ${EXAMPLE_SUBMIT}${urlOption(coordinator)}`,
      "",
    ].join("\n"),
  );
}

export async function upCommand(context: CommandContext): Promise<number> {
  const { values } = parseCommand("up", context.args, {
    ...COORDINATOR_OPTIONS,
    memory: { type: "string" },
    name: { type: "string" },
    labels: { type: "string" },
    "drain-timeout": { type: "string" },
  });
  const log = loggerFor(context);
  const config = coordinatorConfigFrom(values, context.env);
  const agentConfig = compileAgentConfig({
    nats: "pending", // replaced below once the coordinator knows its NATS URL
    name: values.name,
    memory: values.memory,
    labels: values.labels,
    workDir: join(config.dataDir, "agent"),
    // The whole farm stops together: running jobs go back to the queue and run at the next start.
    drainTimeout: values["drain-timeout"] ?? "0",
  });
  const coordinator = await Coordinator.start(config, log.child({ part: "coordinator" }));
  let agent: AgentDaemon;
  let credsFile: string | undefined;
  try {
    // An external NATS admits whom its own admin lets in; the embedded one, whom the farm issued keys.
    credsFile = coordinator.managesNats
      ? await coordinator.natsAuthority.ensureLocalAgent(agentConfig.name)
      : undefined;
    agent = new AgentDaemon(
      { ...agentConfig, natsServers: coordinator.natsUrls, credsFile },
      log.child({ part: "agent" }),
    );
    await agent.start();
  } catch (thrown) {
    await coordinator.stop();
    throw thrown;
  }
  const local = `  Local agent ${agentConfig.name}${credsFile ? `, its NATS credentials in ${credsFile}` : ""}`;
  printReady(context, coordinator, joinLines(coordinator, { kind: "issue", name: "NAME" }), [local]);
  return runUntilSignal(
    context,
    async () => {
      await agent.stop();
      await coordinator.stop();
    },
    () => {
      agent.forceStop();
      coordinator.forceStop();
    },
    drainMessage(agentConfig.drainTimeoutMs),
  );
}

export async function coordinatorCommand(context: CommandContext): Promise<number> {
  const { values } = parseCommand("coordinator", context.args, COORDINATOR_OPTIONS);
  const log = loggerFor(context);
  const config = coordinatorConfigFrom(values, context.env);
  const coordinator = await Coordinator.start(config, log);
  let hint: JoinHint = { kind: "issue", name: "NAME" };
  if (coordinator.managesNats) {
    try {
      const name = defaultAgentName();
      hint = { kind: "local", name, credsFile: await coordinator.natsAuthority.ensureLocalAgent(name) };
    } catch (thrown) {
      // A hostname that makes no agent name: the admin picks one with `memfarm agents creds`.
      log.warn("no credentials for an agent on this machine", { error: (thrown as Error).message });
    }
  }
  printReady(context, coordinator, joinLines(coordinator, hint));
  return runUntilSignal(
    context,
    () => coordinator.stop(),
    () => coordinator.forceStop(),
    "stopping: refusing new work, finishing requests in flight; jobs on agents keep running",
  );
}
