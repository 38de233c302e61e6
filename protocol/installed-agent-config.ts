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
  /** `memfarm agent`'s own options that `hosts add` passes on, as the admin wrote them. */
  options?: InstalledAgentOptions;
}

/** The agent options `hosts add` takes for the agent it installs; each checked before install. */
export interface InstalledAgentOptions {
  /** --memory: memory to advertise, less than the host has (a host shared with other work). */
  memory?: string;
  /** --no-new-jobs: daily UTC windows in which the agent starts nothing new. */
  noNewJobs?: string;
  /** --drain-timeout: also the unit's TimeoutStopSec, so systemd waits for the drain. */
  drainTimeout?: string;
  /** --build-cache-size: disk the finished CPython builds may take on the host. */
  buildCacheSize?: string;
}

const OPTION_KEYS = ["memory", "noNewJobs", "drainTimeout", "buildCacheSize"] as const;

function readOptions(value: unknown, file: string): InstalledAgentOptions {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ValidationError("invalid_config", `${file}: "options" must be an object`, "options");
  const options: InstalledAgentOptions = {};
  for (const [key, field] of Object.entries(value)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key) || typeof field !== "string")
      throw new ValidationError(
        "invalid_config",
        `${file}: "options.${key}" is not an agent option (${OPTION_KEYS.join(", ")}, each a string)`,
        key,
      );
    options[key as (typeof OPTION_KEYS)[number]] = field;
  }
  return options;
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
    options: readOptions(fields.options, file),
  };
}
