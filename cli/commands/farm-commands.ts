import { join } from "node:path";
import { compileAgentConfig, defaultAgentName } from "../../agent/config.ts";
import { AgentDaemon } from "../../agent/daemon.ts";
import { compileCoordinatorConfig } from "../../coordinator/config.ts";
import { Coordinator, EXAMPLE_SUBMIT_ARGS } from "../../coordinator/coordinator.ts";
import { ADMIN_TOKEN_FILE } from "../../coordinator/http/admin-token.ts";
import { DEFAULT_HTTP_PORT, defaultDataDir } from "../../protocol/coordinator-address.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { CommandContext } from "../context.ts";
import { cliCommand, shellWord } from "../invocation.ts";
import { parseCommand } from "../parse.ts";
import { normalizeUrl, saveProfile } from "../profiles.ts";
import {
  drainMessage,
  LOG_OPTIONS,
  loggerFor,
  runUntilSignal,
  StartingSignals,
} from "../run-until-signal.ts";

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
  "backup-dir": { type: "string" },
  "backup-keep": { type: "string" },
  "backup-at": { type: "string" },
  "keep-samples": { type: "string" },
  "keep-logs": { type: "string" },
  "old-logs": { type: "string" },
  ...LOG_OPTIONS,
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
      backupDir: values["backup-dir"],
      backupKeep: values["backup-keep"],
      backupAt: values["backup-at"],
      keepSamples: values["keep-samples"],
      keepLogs: values["keep-logs"],
      oldLogs: values["old-logs"],
    },
    env,
  );
}

/** How the printed commands reach this farm: the CLI as it was run, and the options it needs. */
interface Printed {
  /** The CLI as a shell on this machine runs it (cli/invocation.ts). */
  cli: string;
  /** The options a command needs to find this farm and its token (see farmOptions). */
  options: string;
}

/**
 * The options a printed command needs. --url unless the farm is where the CLI looks by default, so
 * the line stays true when another farm becomes the current profile; the token comes from the
 * profile saved for that URL, or, if it could not be saved, from --data-dir.
 */
function farmOptions(coordinator: Coordinator, profileSaved: boolean, env: NodeJS.ProcessEnv): string {
  const url = coordinator.config.port === DEFAULT_HTTP_PORT ? "" : ` --url ${shellWord(coordinator.httpUrl)}`;
  const dataDir = coordinator.config.dataDir;
  const tokenFound = profileSaved || dataDir === defaultDataDir(env);
  return `${url}${tokenFound ? "" : ` --data-dir ${shellWord(dataDir)}`}`;
}

/**
 * Saves this farm as the current profile, so that the CLI on this machine finds it and its token
 * without flags. A profile that cannot be written (a read-only home) does not stop the farm.
 */
async function saveFarmProfile(
  context: CommandContext,
  coordinator: Coordinator,
  savedBy: "up" | "coordinator",
  log: Logger,
): Promise<string | null> {
  try {
    const { name, file } = await saveProfile(context.env, {
      url: normalizeUrl(coordinator.httpUrl, "the coordinator's URL"),
      tokenFile: join(coordinator.config.dataDir, ADMIN_TOKEN_FILE),
      savedBy,
    });
    return `  Profile:    ${name} in ${file} (the CLI on this machine uses this farm by default)`;
  } catch (thrown) {
    log.warn("could not save the CLI profile; commands need --data-dir to find the token", {
      error: (thrown as Error).message,
    });
    return null;
  }
}

/** This machine's agent name, or one that works when its hostname makes none. */
function suggestedAgentName(): string {
  try {
    return defaultAgentName();
  } catch {
    return "agent-1";
  }
}

/** How an agent joins: the exact command with its credentials file, or how to get one first. */
type JoinHint = { kind: "local"; name: string; credsFile: string } | { kind: "issue"; name: string };

function joinLines(coordinator: Coordinator, hint: JoinHint, printed: Printed): string[] {
  const nats = shellWord(coordinator.advertisedNats.join(","));
  const { cli, options } = printed;
  if (hint.kind === "local") {
    return [
      "Join an agent on this machine to the farm:",
      `  ${cli} agent --nats ${nats} --creds ${shellWord(hint.credsFile)} --name ${hint.name}`,
    ];
  }
  const file = `${hint.name}.nk`;
  return [
    "Join another agent to the farm (credentials for that agent alone, then the agent):",
    `  ${cli} agents creds ${hint.name} --output ${file}${options}`,
    ...(coordinator.managesNats
      ? []
      : [
          `  (then include ${coordinator.natsAuthority.authorizationFile} in the nats-server config and reload it)`,
        ]),
    `  ${cli} agent --nats ${nats} --creds ${file} --name ${hint.name}`,
  ];
}

function printReady(
  context: CommandContext,
  coordinator: Coordinator,
  printed: Printed,
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
      `  Admin token in ${join(coordinator.config.dataDir, ADMIN_TOKEN_FILE)}`,
      ...extra,
      "",
      ...joinHelp,
      "",
      "Run a first job:",
      `  ${printed.cli} ${EXAMPLE_SUBMIT_ARGS}${printed.options}`,
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
  const log = loggerFor(context, values);
  const config = coordinatorConfigFrom(values, context.env);
  const starting = new StartingSignals(context);
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
  const profile = await saveFarmProfile(context, coordinator, "up", log);
  const printed = {
    cli: cliCommand(context.env),
    options: farmOptions(coordinator, profile !== null, context.env),
  };
  // The embedded nats-server listens on loopback: another agent joins from this machine, by another name.
  const another: JoinHint = { kind: "issue", name: `${agentConfig.name}-2` };
  printReady(context, coordinator, printed, joinLines(coordinator, another, printed), [
    local,
    ...(profile ? [profile] : []),
  ]);
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
    starting,
  );
}

export async function coordinatorCommand(context: CommandContext): Promise<number> {
  const { values } = parseCommand("coordinator", context.args, COORDINATOR_OPTIONS);
  const log = loggerFor(context, values);
  const config = coordinatorConfigFrom(values, context.env);
  const starting = new StartingSignals(context);
  const coordinator = await Coordinator.start(config, log);
  let hint: JoinHint = { kind: "issue", name: suggestedAgentName() };
  if (coordinator.managesNats) {
    try {
      const name = defaultAgentName();
      hint = { kind: "local", name, credsFile: await coordinator.natsAuthority.ensureLocalAgent(name) };
    } catch (thrown) {
      // A hostname that makes no agent name: the admin picks one with `memfarm agents creds`.
      log.warn("no credentials for an agent on this machine", { error: (thrown as Error).message });
    }
  }
  const profile = await saveFarmProfile(context, coordinator, "coordinator", log);
  const printed = {
    cli: cliCommand(context.env),
    options: farmOptions(coordinator, profile !== null, context.env),
  };
  printReady(context, coordinator, printed, joinLines(coordinator, hint, printed), profile ? [profile] : []);
  return runUntilSignal(
    context,
    () => coordinator.stop(),
    () => coordinator.forceStop(),
    "stopping: refusing new work, finishing requests in flight; jobs on agents keep running",
    starting,
  );
}
