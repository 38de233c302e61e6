import type { InstalledAgentOptions } from "../../protocol/installed-agent-config.ts";
import type { AgentBundle } from "./agent-bundle.ts";
import {
  type AgentLayout,
  agentConfigText,
  agentLayout,
  SERVICE_HOME,
  serviceAccountLayout,
  UNIT_NAME,
} from "./agent-layout.ts";
import { agentUnitText } from "./agent-unit.ts";
import type { HostProgress } from "./host-progress.ts";
import {
  chownToServiceUserCommand,
  enableLingerCommand,
  ensureServiceUserCommand,
  factsCommand,
  pruneVersionsCommand,
  removeServiceUserCommand,
  type StartMode,
  startDetachedCommand,
  startSystemdCommand,
  stopDetachedCommand,
  stopSystemdCommand,
  tailLogCommand,
  uninstallCommand,
} from "./remote-commands.ts";
import { checkRequirements, describeFacts, parseFacts, type RemoteFacts } from "./remote-facts.ts";
import { makeDirectories, uploadFile, writeRemoteFile } from "./sftp-files.ts";
import type { SshSession } from "./ssh-session.ts";
import { StepError } from "./step-error.ts";

/** The steps that run on a host, each one safe to run again. */

/** `check`: stop on unmet requirements (not when the agent is only being removed). */
export async function gatherFacts(
  session: SshSession,
  progress: HostProgress,
  check = true,
): Promise<RemoteFacts> {
  progress.enter("facts", "gathering facts");
  const result = await session.exec(factsCommand());
  if (result.code !== 0) {
    throw new StepError(
      "facts",
      `the facts script failed (exit ${result.code}): ${result.stderr.trim().slice(0, 500)}`,
    );
  }
  const facts = parseFacts(result.stdout);
  progress.info(describeFacts(facts));
  if (!check) return facts;
  const { errors, warnings } = checkRequirements(facts);
  for (const warning of warnings) progress.warn(warning);
  if (errors.length > 0) throw new StepError("facts", errors.join("; "));
  return facts;
}

export function startModeFor(facts: RemoteFacts): StartMode {
  if (!facts.systemd) return "detached";
  return facts.uid === 0 ? "systemd-system" : "systemd-user";
}

/** Stops whatever agent an earlier install started (either way it may have been started). */
export async function stopAgent(
  session: SshSession,
  layout: AgentLayout,
  mode: StartMode | null,
  progress: HostProgress,
) {
  progress.enter("stop", "stopping the agent, if one runs");
  if (mode === "systemd-system" || mode === "systemd-user") await session.exec(stopSystemdCommand(mode));
  const result = await session.exec(stopDetachedCommand(layout));
  if (result.code !== 0) {
    throw new StepError("stop", `could not stop the agent: ${result.stderr.trim().slice(0, 500)}`);
  }
}

export async function installAgent(
  session: SshSession,
  progress: HostProgress,
  install: {
    layout: AgentLayout;
    bundle: AgentBundle;
    credentials: string;
    config: { name: string; labels: Record<string, string>; nats: string[]; options: InstalledAgentOptions };
  },
): Promise<void> {
  const { layout, bundle } = install;
  progress.enter(
    "install",
    `uploading the agent ${bundle.version} (${Math.round(bundle.bytes / 1024)} KiB) to ${layout.versionDir}`,
  );
  if (layout.serviceUser !== null) await ensureServiceUser(session, progress, layout.serviceUser);
  try {
    const sftp = await session.sftp();
    await makeDirectories(sftp, layout.versionDir);
    await makeDirectories(sftp, layout.workDir);
    await uploadFile(sftp, bundle.file, layout.bundle);
    await writeRemoteFile(sftp, layout.creds, install.credentials, 0o600);
    await writeRemoteFile(sftp, layout.config, agentConfigText(layout, install.config), 0o600);
    if (layout.serviceUser !== null) await chownToServiceUser(session, layout.serviceUser, layout.root);
  } catch (thrown) {
    if (thrown instanceof StepError) throw thrown;
    throw new StepError(
      "install",
      `upload failed: ${(thrown as Error).message} (is the disk full, is ~/.memfarm writable?)`,
      { cause: thrown },
    );
  }
  progress.info(
    `config ${layout.config} with NATS ${install.config.nats.join(",")}; credentials for this host alone in ${layout.creds}`,
  );
}

async function ensureServiceUser(session: SshSession, progress: HostProgress, user: string) {
  const result = await session.exec(ensureServiceUserCommand(user, SERVICE_HOME));
  if (result.code !== 0) {
    throw new StepError(
      "install",
      `could not make the system user ${user} the agent runs as (useradd): ${result.stderr.trim().slice(0, 500)}`,
    );
  }
  progress.info(`the agent runs as the system user ${user}, home ${SERVICE_HOME}`);
}

async function chownToServiceUser(session: SshSession, user: string, root: string) {
  const result = await session.exec(chownToServiceUserCommand(user, root));
  if (result.code !== 0)
    throw new StepError(
      "install",
      `could not hand ${root} to ${user}: ${result.stderr.trim().slice(0, 500)}`,
    );
}

export async function startAgent(
  session: SshSession,
  progress: HostProgress,
  layout: AgentLayout,
  facts: RemoteFacts,
  agentName: string,
  options: InstalledAgentOptions,
): Promise<StartMode> {
  let mode = startModeFor(facts);
  const node = facts.nodePath as string;
  progress.enter(
    "start",
    mode === "detached"
      ? "starting the agent as a detached process (no systemd)"
      : `starting the agent as a ${mode} unit`,
  );
  // Without lingering, systemd stops a user's units when their last session ends: the agent would
  // leave the farm the moment this SSH session closes, and come back only with the next login.
  if (mode === "systemd-user" && (await session.exec(enableLingerCommand())).code !== 0) {
    progress.warn(
      "could not enable lingering (loginctl enable-linger USER needs root here), so a user unit would stop when the SSH session ends: starting a detached process instead",
    );
    mode = "detached";
  }
  if (mode === "detached") {
    const result = await session.exec(startDetachedCommand(layout, node));
    if (result.code !== 0)
      throw new StepError("start", `the agent did not start: ${result.stderr.trim().slice(0, 500)}`);
    progress.info(`started; its log is ${layout.log}`);
    return mode;
  }
  const system = mode === "systemd-system";
  const unitFile = system ? layout.systemUnit : layout.userUnit;
  const sftp = await session.sftp();
  await makeDirectories(sftp, unitFile.slice(0, unitFile.lastIndexOf("/")), 0o755);
  await writeRemoteFile(sftp, unitFile, agentUnitText(layout, node, agentName, system, options), 0o644);
  const result = await session.exec(startSystemdCommand(mode));
  if (result.code !== 0) {
    throw new StepError(
      "start",
      `systemctl could not start ${UNIT_NAME}: ${result.stderr.trim().slice(0, 500)}`,
    );
  }
  progress.info(`${UNIT_NAME} enabled and started; its log is ${layout.log}`);
  return mode;
}

export async function agentLogTail(session: SshSession, layout: AgentLayout): Promise<string> {
  const result = await session.exec(tailLogCommand(layout)).catch(() => null);
  return result?.stdout.trim() ?? "";
}

export async function pruneOldVersions(
  session: SshSession,
  layout: AgentLayout,
  keep: string,
): Promise<void> {
  await session.exec(pruneVersionsCommand(layout, keep));
}

export async function uninstallAgent(
  session: SshSession,
  progress: HostProgress,
  layout: AgentLayout,
  mode: StartMode | null,
) {
  progress.enter("uninstall", `removing ${layout.root}`);
  const unit =
    mode === "systemd-system" ? layout.systemUnit : mode === "systemd-user" ? layout.userUnit : null;
  const result = await session.exec(uninstallCommand(layout, unit));
  if (result.code !== 0)
    throw new StepError(
      "uninstall",
      `could not remove ${layout.root}: ${result.stderr.trim().slice(0, 500)}`,
    );
  if (layout.serviceUser === null) return;
  const removed = await session.exec(removeServiceUserCommand(layout.serviceUser, SERVICE_HOME));
  if (removed.code !== 0)
    throw new StepError(
      "uninstall",
      `could not remove the system user ${layout.serviceUser}: ${removed.stderr.trim().slice(0, 500)}`,
    );
}

/** A system unit (root on a systemd host) runs the agent as its own user; otherwise the SSH user's home. */
export function layoutFor(facts: RemoteFacts, version: string): AgentLayout {
  return startModeFor(facts) === "systemd-system"
    ? serviceAccountLayout(version)
    : agentLayout(facts.home, version);
}
