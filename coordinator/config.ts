import { resolve } from "node:path";
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, defaultDataDir } from "../protocol/coordinator-address.ts";
import { parseDuration } from "../protocol/durations.ts";
import { ValidationError } from "../protocol/errors.ts";
import { splitList } from "../protocol/lists.ts";
import { parseSize } from "../protocol/sizes.ts";
import type { BackupSchedule } from "./backups/nightly-backups.ts";
import { compileGithubConfig, type GithubConfig, type GithubOptions } from "./github/github-config.ts";
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
  /** The pull-request bot's settings; by default from the MEMFARM_GITHUB_* variables. */
  github?: GithubOptions;
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
  /** The pull-request bot; null when MEMFARM_GITHUB_WEBHOOK_SECRET is not set. */
  github: GithubConfig | null;
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
    advertiseNats: splitList(options.advertiseNats ?? ""),
    jobsDir: options.jobsDir ? resolve(options.jobsDir) : DEFAULT_JOBS_DIR,
    headroomBytes: parseSize(options.headroom ?? "1G", "headroom"),
    heartbeatIntervalMs,
    lostAfterMs,
    schedulerTickMs: 1000,
    maxAttempts: 3,
    streamReplicas: readReplicas(options.streamReplicas, splitList(options.nats ?? "").length),
    backups: readBackups(options),
    retention: readRetention(options),
    github: compileGithubConfig(options.github ?? githubOptionsFrom(env)),
  };
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

function readBackups(options: CoordinatorOptions): BackupSchedule | null {
  if (options.backupDir === undefined) {
    const stray = options.backupKeep !== undefined ? "keep" : options.backupAt !== undefined ? "at" : null;
    if (stray) {
      throw new ValidationError(
        "invalid_option",
        `--backup-${stray} needs --backup-dir DIR: the folder the nightly backups go to`,
        `backup-${stray}`,
      );
    }
    return null;
  }
  if (options.backupDir.trim() === "") {
    throw new ValidationError("invalid_option", "--backup-dir needs a folder", "backup-dir");
  }
  const keepText = options.backupKeep ?? String(DEFAULT_BACKUP_KEEP);
  const keep = Number(keepText);
  if (!/^\d+$/.test(keepText.trim()) || keep < 1 || keep > 1000) {
    throw new ValidationError(
      "invalid_option",
      `--backup-keep must be a whole number of backups from 1 to 1000, not "${keepText}"`,
      "backup-keep",
    );
  }
  const atText = options.backupAt ?? DEFAULT_BACKUP_AT;
  const at = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(atText.trim());
  if (!at) {
    throw new ValidationError(
      "invalid_option",
      `--backup-at must be a time of day in UTC as HH:MM (00:00 to 23:59), not "${atText}"`,
      "backup-at",
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
    throw new ValidationError(
      error.code,
      `${error.message} (or "forever" to keep everything)`,
      field.slice(2),
    );
  }
}

function readRetention(options: CoordinatorOptions): RetentionConfig {
  const oldLogs = (options.oldLogs ?? DEFAULT_OLD_LOGS).trim() as OldLogs;
  if (!OLD_LOGS.includes(oldLogs)) {
    throw new ValidationError(
      "invalid_option",
      `--old-logs must be compress (keep every line, gzipped) or drop (delete them), not "${options.oldLogs}"`,
      "old-logs",
    );
  }
  return {
    keepSamplesMs: readKeep(options.keepSamples ?? DEFAULT_KEEP_SAMPLES, "--keep-samples"),
    keepLogsMs: readKeep(options.keepLogs ?? DEFAULT_KEEP_LOGS, "--keep-logs"),
    oldLogs,
  };
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
