import type { InstalledAgentConfig, InstalledAgentOptions } from "../../protocol/installed-agent-config.ts";
import { StepError } from "./step-error.ts";

export const UNIT_NAME = "memfarm-agent.service";

/**
 * Where an installed agent's files live on its host: under the SSH user's ~/.memfarm, or, for a
 * system unit (`hosts add` as root on a systemd host), under /var/lib/memfarm, owned by the
 * dedicated user the agent runs as.
 */
export interface AgentLayout {
  root: string;
  /** The account the agent runs as when it is not the SSH user: a system unit's dedicated user. */
  serviceUser: string | null;
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
  return layoutUnder(`${home.replace(/\/+$/, "")}/.memfarm`, version, null, home);
}

/** The account a root install's system unit runs the agent as, and its home. */
export const SERVICE_USER = "memfarm-agent";
export const SERVICE_HOME = "/var/lib/memfarm-agent";

/** A system unit's layout: the dedicated user's home, not root's. */
export function serviceAccountLayout(version: string): AgentLayout {
  return layoutUnder(SERVICE_HOME, version, SERVICE_USER, SERVICE_HOME);
}

function layoutUnder(root: string, version: string, serviceUser: string | null, home: string): AgentLayout {
  const versionDir = `${root}/versions/${version}`;
  return {
    root,
    serviceUser,
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
  agent: { name: string; labels: Record<string, string>; nats: string[]; options: InstalledAgentOptions },
): string {
  const config: InstalledAgentConfig = {
    nats: agent.nats,
    creds: layout.creds,
    name: agent.name,
    labels: agent.labels,
    workDir: layout.workDir,
    pidFile: layout.pidFile,
    options: agent.options,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
