import { resolve } from "node:path";
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, defaultDataDir } from "../protocol/coordinator-address.ts";
import { parseDuration } from "../protocol/durations.ts";
import { ValidationError } from "../protocol/errors.ts";
import { splitList } from "../protocol/lists.ts";
import { OWN_VERSION, type SpokenVersion } from "../protocol/protocol-version.ts";
import { parseSize } from "../protocol/sizes.ts";
import { compileGithubConfig, type GithubConfig, type GithubOptions } from "./github/github-config.ts";
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
  /** The pull-request bot's settings; by default from the MEMFARM_GITHUB_* variables. */
  github?: GithubOptions;
  /**
   * For tests only (no flag sets it): the coordinator says it is this release and protocol
   * instead of its own, so a test can run an upgrade without editing package.json.
   */
  pretendVersion?: SpokenVersion;
}

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
  /** The pull-request bot; null when MEMFARM_GITHUB_WEBHOOK_SECRET is not set. */
  github: GithubConfig | null;
  /** What the coordinator says it is to agents: its own release and protocol (tests may pretend). */
  version: SpokenVersion;
}

function readPort(text: string | undefined, fallback: number, field: string): number {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ValidationError(
      "invalid_port",
      `--${field} must be a port number from 0 to 65535, not "${text}"`,
      field,
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

export function compileCoordinatorConfig(
  options: CoordinatorOptions,
  env: NodeJS.ProcessEnv,
): CoordinatorConfig {
  const heartbeatIntervalMs = 2000;
  const lostAfterMs =
    options.lostAfter === undefined
      ? DEFAULT_LOST_AFTER_MS
      : parseDuration(options.lostAfter, "--lost-after", {
          // Two heartbeats at least, so that one late heartbeat does not lose an agent.
          minMs: heartbeatIntervalMs * 2,
          maxMs: MAX_LOST_AFTER_MS,
        });
  const natsServers = splitList(options.nats ?? "");
  if (options.natsCreds !== undefined && natsServers.length === 0) {
    throw new ValidationError(
      "invalid_option",
      "--creds is for an external NATS (--nats URL); the embedded nats-server uses the coordinator's own key",
      "creds",
    );
  }
  return {
    host: options.host ?? DEFAULT_HTTP_HOST,
    port: readPort(options.port ?? env.MEMFARM_PORT, DEFAULT_HTTP_PORT, "port"),
    dataDir: options.dataDir ? resolve(options.dataDir) : defaultDataDir(env),
    natsServers,
    natsCredsFile: options.natsCreds === undefined ? undefined : resolve(options.natsCreds),
    embeddedNatsPort: readPort(options.natsPort, 0, "nats-port"),
    embeddedNatsHost: readNatsHost(options.natsHost, natsServers.length > 0),
    advertiseNats: splitList(options.advertiseNats ?? ""),
    jobsDir: options.jobsDir ? resolve(options.jobsDir) : DEFAULT_JOBS_DIR,
    headroomBytes: parseSize(options.headroom ?? "1G", "headroom"),
    heartbeatIntervalMs,
    lostAfterMs,
    schedulerTickMs: 1000,
    maxAttempts: 3,
    streamReplicas: readReplicas(options.streamReplicas, splitList(options.nats ?? "").length),
    github: compileGithubConfig(options.github ?? githubOptionsFrom(env)),
    version: options.pretendVersion ?? OWN_VERSION,
  };
}

function readNatsHost(text: string | undefined, external: boolean): string {
  if (text === undefined) return "127.0.0.1";
  if (external) {
    throw new ValidationError(
      "invalid_option",
      "--nats-host is where the embedded nats-server listens; with --nats URL there is none",
      "nats-host",
    );
  }
  // An address nats-server can bind, not a name: it would resolve a name once, at start.
  if (!/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+)$/.test(text)) {
    throw new ValidationError(
      "invalid_option",
      `--nats-host must be an IP address to listen on (0.0.0.0 for all), not "${text}"`,
      "nats-host",
    );
  }
  return text;
}

/** Default: 3 copies when the coordinator is given three or more NATS servers (a cluster), else 1. */
function readReplicas(text: string | undefined, natsServers: number): number {
  if (text === undefined) return natsServers >= 3 ? 3 : 1;
  const replicas = Number(text);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new ValidationError(
      "invalid_replicas",
      `--stream-replicas must be a whole number from 1 to 5 (JetStream's limit), not "${text}"`,
      "stream-replicas",
    );
  }
  return replicas;
}

function githubOptionsFrom(env: NodeJS.ProcessEnv): GithubOptions {
  return {
    webhookSecret: env.MEMFARM_GITHUB_WEBHOOK_SECRET,
    apiUrl: env.MEMFARM_GITHUB_API_URL,
    token: env.MEMFARM_GITHUB_TOKEN,
    appId: env.MEMFARM_GITHUB_APP_ID,
    privateKeyFile: env.MEMFARM_GITHUB_PRIVATE_KEY_FILE,
    repos: env.MEMFARM_GITHUB_REPOS,
    publicUrl: env.MEMFARM_PUBLIC_URL,
  };
}
