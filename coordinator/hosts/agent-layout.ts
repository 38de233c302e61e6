import type { InstalledAgentConfig } from "../../protocol/installed-agent-config.ts";
import { StepError } from "./step-error.ts";

export const UNIT_NAME = "memfarm-agent.service";

/** Where an installed agent's files live on its host, all under the SSH user's ~/.memfarm. */
export interface AgentLayout {
  root: string;
  versions: string;
  versionDir: string;
  bundle: string;
  config: string;
  creds: string;
  workDir: string;
  log: string;
  pidFile: string;
  userUnit: string;
  systemUnit: string;
}

/**
 * A home the remote shell and a systemd unit both take literally: no quotes, `%`, `\`, spaces or
 * control characters. Paths are quoted anyway; this keeps the unit file simple and safe too.
 */
const SAFE_PATH = /^\/[A-Za-z0-9._+@/-]*$/;

export function agentLayout(home: string, version: string): AgentLayout {
  if (!SAFE_PATH.test(home) || home.includes("..")) {
    throw new StepError(
      "facts",
      `the home directory "${home}" has characters memfarm does not install under; use an account with a plain home path`,
    );
  }
  const root = `${home.replace(/\/+$/, "")}/.memfarm`;
  const versionDir = `${root}/versions/${version}`;
  return {
    root,
    versions: `${root}/versions`,
    versionDir,
    bundle: `${versionDir}/memfarm-agent.cjs`,
    config: `${root}/agent.json`,
    creds: `${root}/credentials.nk`,
    workDir: `${root}/work`,
    log: `${root}/agent.log`,
    pidFile: `${root}/agent.pid`,
    userUnit: `${home}/.config/systemd/user/${UNIT_NAME}`,
    systemUnit: `/etc/systemd/system/${UNIT_NAME}`,
  };
}

export function agentConfigText(
  layout: AgentLayout,
  agent: { name: string; labels: Record<string, string>; nats: string[] },
): string {
  const config: InstalledAgentConfig = {
    nats: agent.nats,
    creds: layout.creds,
    name: agent.name,
    labels: agent.labels,
    workDir: layout.workDir,
    pidFile: layout.pidFile,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** A unit that restarts the agent if it dies; stopping gives running jobs the agent's drain time. */
export function unitFileText(
  layout: AgentLayout,
  nodePath: string,
  agentName: string,
  system: boolean,
): string {
  return [
    "[Unit]",
    `Description=memfarm agent ${agentName}`,
    "After=network-online.target",
    "",
    "[Service]",
    `ExecStart="${nodePath}" "${layout.bundle}" --config "${layout.config}"`,
    `WorkingDirectory=${layout.root}`,
    "Restart=on-failure",
    "RestartSec=5",
    "TimeoutStopSec=660",
    // The unit's cgroup is the agent's: it puts itself in a leaf and each job in a cgroup beside it,
    // with memory.max, memory.oom.group and cgroup.kill (agent/limits/delegated-cgroup.ts).
    "Delegate=yes",
    "Environment=MEMFARM_CGROUP_DELEGATED=1",
    // Stopping the unit kills the jobs too (they are in its cgroup), after the agent's drain.
    "KillMode=mixed",
    `StandardOutput=append:${layout.log}`,
    `StandardError=append:${layout.log}`,
    "",
    "[Install]",
    `WantedBy=${system ? "multi-user.target" : "default.target"}`,
    "",
  ].join("\n");
}
