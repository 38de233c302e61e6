import { resolve } from "node:path";
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, defaultDataDir } from "../protocol/coordinator-address.ts";
import { parseDuration } from "../protocol/durations.ts";
import { quoted, ValidationError } from "../protocol/errors.ts";
import { splitList } from "../protocol/lists.ts";
import { OWN_VERSION, type SpokenVersion } from "../protocol/protocol-version.ts";
import { parseSize } from "../protocol/sizes.ts";
import {
  compileGithubConfig,
  type GithubConfig,
  type GithubNames,
  type GithubOptions,
} from "./github/github-config.ts";
import { DEFAULT_JOBS_DIR } from "./paths.ts";

/** Raw coordinator options, as the CLI reads them. */
export interface CoordinatorOptions {
  port?: string;
  host?: string;
  dataDir?: string;
  nats?: string;
  natsCreds?: string;
  natsPort?: string;
  natsHost?: string;
  advertiseNats?: string;
  jobsDir?: string;
  headroom?: string;
  lostAfter?: string;
  streamReplicas?: string;
  /** The pull-request bot's settings (the MEMFARM_GITHUB_* variables or the config file's github keys). */
  github?: GithubOptions;
  /**
   * For tests only (no flag sets it): the coordinator says it is this release and protocol
   * instead of its own, so a test can run an upgrade without editing package.json.
   */
  pretendVersion?: SpokenVersion;
}

/**
 * What an error calls each option: where its value came from (`--port`, `MEMFARM_PORT`,
 * `memfarm.toml: coordinator.port`; cli/settings/); the flag when not said.
 */
export type CoordinatorNames = Partial<Record<Exclude<keyof CoordinatorOptions, "github">, string>> & {
  github?: GithubNames;
};

export interface CoordinatorConfig {
  host: string;
  port: number;
  dataDir: string;
  /** External NATS servers; empty means "start an embedded nats-server". */
  natsServers: string[];
  /** The coordinator's credentials for an external NATS (`--creds`); the embedded one uses its own key. */
  natsCredsFile: string | undefined;
  embeddedNatsPort: number;
  /** Where the embedded nats-server listens: loopback unless agents on other hosts must reach it. */
  embeddedNatsHost: string;
  /** The NATS URLs agents are told to use; empty means "the ones the coordinator uses". */
  advertiseNats: string[];
  jobsDir: string;
  /** Memory kept back on a host: this much, or 5% of the host's memory if that is more. */
  headroomBytes: number;
  heartbeatIntervalMs: number;
  lostAfterMs: number;
  schedulerTickMs: number;
  maxAttempts: number;
  /** Copies of the reports stream: 3 on a JetStream cluster, 1 on one server. */
  streamReplicas: number;
  /** The pull-request bot; null when no webhook secret is set. */
  github: GithubConfig | null;
  /** What the coordinator says it is to agents: its own release and protocol (tests may pretend). */
  version: SpokenVersion;
}

function readPort(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (text.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ValidationError(
      "invalid_port",
      `${name} must be a port number from 0 to 65535, not ${quoted(text)}`,
      name,
    );
  }
  return port;
}

/**
 * An agent silent this long is lost unless --lost-after says otherwise: four missed heartbeats, so
 * a dead agent's jobs are requeued within about 10 s of its last beat (the scheduler looks once
 * a second), and one or two late beats on a loaded host lose nothing.
 */
const DEFAULT_LOST_AFTER_MS = 8_000;
/** Longer, and a dead agent's jobs would wait more than an hour to run again. */
const MAX_LOST_AFTER_MS = 3_600_000;

/**
 * `env` gives the default data dir (MEMFARM_DATA_DIR, XDG_DATA_HOME); every other variable that
 * stands in for an option is read by cli/settings/ into `options`, after the flags and before the
 * config file.
 */
export function compileCoordinatorConfig(
  options: CoordinatorOptions,
  env: NodeJS.ProcessEnv,
  names: CoordinatorNames = {},
): CoordinatorConfig {
  const name = (option: Exclude<keyof CoordinatorNames, "github">, flag: string) => names[option] ?? flag;
  const heartbeatIntervalMs = 2000;
  const lostAfterMs =
    options.lostAfter === undefined
      ? DEFAULT_LOST_AFTER_MS
      : parseDuration(options.lostAfter, name("lostAfter", "--lost-after"), {
          // Two heartbeats at least, so that one late heartbeat does not lose an agent.
          minMs: heartbeatIntervalMs * 2,
          maxMs: MAX_LOST_AFTER_MS,
        });
  const natsServers = splitList(options.nats ?? "");
  if (options.natsCreds !== undefined && natsServers.length === 0) {
    throw new ValidationError(
      "invalid_option",
      `${name("natsCreds", "--creds")} is for an external NATS (${name("nats", "--nats")} URL); the embedded nats-server uses the coordinator's own key`,
      "creds",
    );
  }
  return {
    host: options.host ?? DEFAULT_HTTP_HOST,
    port: readPort(options.port, DEFAULT_HTTP_PORT, name("port", "--port")),
    dataDir: options.dataDir ? resolve(options.dataDir) : defaultDataDir(env),
    natsServers,
    natsCredsFile: options.natsCreds === undefined ? undefined : resolve(options.natsCreds),
    embeddedNatsPort: readPort(options.natsPort, 0, name("natsPort", "--nats-port")),
    embeddedNatsHost: readNatsHost(options.natsHost, natsServers.length > 0, name("natsHost", "--nats-host")),
    advertiseNats: splitList(options.advertiseNats ?? ""),
    jobsDir: options.jobsDir ? resolve(options.jobsDir) : DEFAULT_JOBS_DIR,
    headroomBytes: parseSize(options.headroom ?? "1G", name("headroom", "--headroom")),
    heartbeatIntervalMs,
    lostAfterMs,
    schedulerTickMs: 1000,
    maxAttempts: 3,
    streamReplicas: readReplicas(
      options.streamReplicas,
      splitList(options.nats ?? "").length,
      name("streamReplicas", "--stream-replicas"),
    ),
    github: compileGithubConfig(options.github ?? {}, names.github),
    version: options.pretendVersion ?? OWN_VERSION,
  };
}

function readNatsHost(text: string | undefined, external: boolean, name: string): string {
  if (text === undefined) return "127.0.0.1";
  if (external) {
    throw new ValidationError(
      "invalid_option",
      `${name} is where the embedded nats-server listens; with --nats URL there is none`,
      name,
    );
  }
  // An address nats-server can bind, not a name: it would resolve a name once, at start.
  if (!/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+)$/.test(text)) {
    throw new ValidationError(
      "invalid_option",
      `${name} must be an IP address to listen on (0.0.0.0 for all), not "${text}"`,
      name,
    );
  }
  return text;
}

/** Default: 3 copies when the coordinator is given three or more NATS servers (a cluster), else 1. */
function readReplicas(text: string | undefined, natsServers: number, name: string): number {
  if (text === undefined) return natsServers >= 3 ? 3 : 1;
  const replicas = Number(text);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new ValidationError(
      "invalid_replicas",
      `${name} must be a whole number from 1 to 5 (JetStream's limit), not ${quoted(text)}`,
      name,
    );
  }
  return replicas;
}
