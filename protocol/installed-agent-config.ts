import { ValidationError } from "./errors.ts";
import { checkAgentName, checkLabels } from "./names.ts";

/**
 * The config file an agent installed over SSH starts from (`memfarm-agent.cjs --config FILE`).
 * The coordinator writes it (coordinator/hosts), the agent bundle reads it (cli/agent-main.ts):
 * a file rather than a command line, so that nothing of it passes through a remote shell.
 */
export interface InstalledAgentConfig {
  nats: string[];
  /** The NATS credentials file (NKey seed) issued for this host alone. */
  creds: string;
  name: string;
  labels: Record<string, string>;
  workDir: string;
  /** Where the detached agent writes its pid, so that a later stop finds exactly it. */
  pidFile: string;
}

export function parseInstalledAgentConfig(text: string, file: string): InstalledAgentConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError(
      "invalid_config",
      `${file} is not JSON; run "memfarm hosts upgrade" to rewrite it`,
    );
  }
  const fields = (value ?? {}) as Record<string, unknown>;
  const text_ = (key: string): string => {
    const field = fields[key];
    if (typeof field !== "string" || field === "")
      throw new ValidationError("invalid_config", `${file}: "${key}" must be a non-empty string`, key);
    return field;
  };
  const nats = fields.nats;
  if (!Array.isArray(nats) || nats.length === 0 || !nats.every((url) => typeof url === "string")) {
    throw new ValidationError("invalid_config", `${file}: "nats" must be a list of NATS URLs`, "nats");
  }
  return {
    nats: nats as string[],
    creds: text_("creds"),
    name: checkAgentName(text_("name")),
    labels: checkLabels((fields.labels ?? {}) as Record<string, string>),
    workDir: text_("workDir"),
    pidFile: text_("pidFile"),
  };
}
