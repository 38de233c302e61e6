import { resolve } from "node:path";
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, defaultDataDir } from "../protocol/coordinator-address.ts";
import { parseDuration } from "../protocol/durations.ts";
import { quoted, ValidationError } from "../protocol/errors.ts";
import { splitList } from "../protocol/lists.ts";
import { OWN_VERSION, type SpokenVersion } from "../protocol/protocol-version.ts";
import { parseSize } from "../protocol/sizes.ts";
import type { BackupSchedule } from "./backups/nightly-backups.ts";
import {
  compileGithubConfig,
  type GithubConfig,
  type GithubNames,
  type GithubOptions,
} from "./github/github-config.ts";
import { DEFAULT_JOBS_DIR } from "./paths.ts";
import type { OldLogs, RetentionConfig } from "./retention/retention.ts";

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
  /** Nightly backups: where (enables them), how many kept, at what time of day (UTC). */
  backupDir?: string;
  backupKeep?: string;
  backupAt?: string;
  /** Retention: `30d`, or `forever`. */
  keepSamples?: string;
  keepLogs?: string;
  oldLogs?: string;
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
  /** Nightly backups; null without --backup-dir. */
  backups: BackupSchedule | null;
  /** What happens to old jobs' samples and logs. */
  retention: RetentionConfig;
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
    backups: readBackups(options, name),
    retention: readRetention(options, name),
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

/** Seven nightly backups: a week to notice that something went wrong before the last good copy goes. */
export const DEFAULT_BACKUP_KEEP = 7;
/** 03:00 UTC: night in Europe, evening in the Americas, when a farm of CPython jobs is quietest. */
export const DEFAULT_BACKUP_AT = "03:00";
/**
 * Raw samples are kept 30 days, then folded into the per-minute summaries: a job's peak, its
 * per-test figures and its chart stay (the chart no finer than a minute), at a fraction of the
 * size (docs/operations/backups-and-retention.md has the numbers).
 */
export const DEFAULT_KEEP_SAMPLES = "30d";
/**
 * Logs are kept line by line for 90 days, then compressed: every line stays readable, in the
 * API and on the job page, at about a tenth of the size. Nothing is deleted unless asked
 * (--old-logs drop): a log is the only evidence of why an old job failed.
 */
export const DEFAULT_KEEP_LOGS = "90d";
export const DEFAULT_OLD_LOGS: OldLogs = "compress";
const OLD_LOGS: readonly OldLogs[] = ["compress", "drop"];
/** Less, and a job could be folded while someone still looks at it the day after. */
const MIN_KEEP_MS = 3_600_000;

/** What an error calls an option: its flag, or the config file's key when it came from there. */
type OptionName = (option: Exclude<keyof CoordinatorNames, "github">, flag: string) => string;

function readBackups(options: CoordinatorOptions, name: OptionName): BackupSchedule | null {
  if (options.backupDir === undefined) {
    const stray =
      options.backupKeep !== undefined
        ? name("backupKeep", "--backup-keep")
        : options.backupAt !== undefined
          ? name("backupAt", "--backup-at")
          : null;
    if (stray) {
      throw new ValidationError(
        "invalid_option",
        `${stray} needs ${name("backupDir", "--backup-dir")} DIR: the folder the nightly backups go to`,
        stray,
      );
    }
    return null;
  }
  if (options.backupDir.trim() === "") {
    const field = name("backupDir", "--backup-dir");
    throw new ValidationError("invalid_option", `${field} needs a folder`, field);
  }
  const keepText = options.backupKeep ?? String(DEFAULT_BACKUP_KEEP);
  const keep = Number(keepText);
  if (!/^\d+$/.test(keepText.trim()) || keep < 1 || keep > 1000) {
    throw new ValidationError(
      "invalid_option",
      `${name("backupKeep", "--backup-keep")} must be a whole number of backups from 1 to 1000, not "${keepText}"`,
      name("backupKeep", "--backup-keep"),
    );
  }
  const atText = options.backupAt ?? DEFAULT_BACKUP_AT;
  const at = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(atText.trim());
  if (!at) {
    throw new ValidationError(
      "invalid_option",
      `${name("backupAt", "--backup-at")} must be a time of day in UTC as HH:MM (00:00 to 23:59), not "${atText}"`,
      name("backupAt", "--backup-at"),
    );
  }
  return {
    dir: resolve(options.backupDir),
    keep,
    atMinuteUtc: Number(at[1]) * 60 + Number(at[2]),
  };
}

/** A --keep-* age in ms, or null for `forever`. */
function readKeep(text: string, field: string): number | null {
  if (["forever", "never"].includes(text.trim().toLowerCase())) return null;
  try {
    return parseDuration(text, field, { minMs: MIN_KEEP_MS });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(error.code, `${error.message} (or "forever" to keep everything)`, field);
  }
}

function readRetention(options: CoordinatorOptions, name: OptionName): RetentionConfig {
  const oldLogs = (options.oldLogs ?? DEFAULT_OLD_LOGS).trim() as OldLogs;
  if (!OLD_LOGS.includes(oldLogs)) {
    throw new ValidationError(
      "invalid_option",
      `${name("oldLogs", "--old-logs")} must be compress (keep every line, gzipped) or drop (delete them), not "${options.oldLogs}"`,
      name("oldLogs", "--old-logs"),
    );
  }
  return {
    keepSamplesMs: readKeep(
      options.keepSamples ?? DEFAULT_KEEP_SAMPLES,
      name("keepSamples", "--keep-samples"),
    ),
    keepLogsMs: readKeep(options.keepLogs ?? DEFAULT_KEEP_LOGS, name("keepLogs", "--keep-logs")),
    oldLogs,
  };
}
