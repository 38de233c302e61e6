import type { Kind } from "./kinds.ts";

/** The daemons that read settings: each takes the flags, variables and file keys listed for it. */
export type Daemon = "up" | "coordinator" | "agent";

/**
 * One setting of the daemons, in every place it can be given. The last part of `key` is the
 * field of the options it fills (coordinator.lostAfter → CoordinatorOptions.lostAfter), so a new
 * setting is one entry here and one field there.
 */
export interface Setting {
  /** Its place in a config file: `section.name` (a TOML table, or a JSON object of the section). */
  readonly key: string;
  /** Its command-line flag, without the dashes; none for settings that stay off command lines (secrets). */
  readonly flag?: string;
  /** The environment variable that stands in for it, if there is one. */
  readonly env?: string;
  /** What a file may hold for it and how that becomes the text its parser reads (kinds.ts). */
  readonly kind: Kind;
  /** The daemons that take it. */
  readonly daemons: readonly Daemon[];
  /** What it does, in a line: docs/operations/config-file.md and the example file say more. */
  readonly about: string;
}

const FARM: readonly Daemon[] = ["coordinator", "up"];
const AGENT: readonly Daemon[] = ["agent"];
const ALL: readonly Daemon[] = ["coordinator", "up", "agent"];

/**
 * Every setting of `memfarm coordinator`, `memfarm up` and `memfarm agent`. Precedence: the flag,
 * then the environment variable, then the config file (--config FILE), then the default (in the
 * compile functions: coordinator/config.ts, agent/config.ts, coordinator/github/github-config.ts,
 * cli/run-until-signal.ts). To add one: an entry here (its flag is then parsed and its key read),
 * the field in those options with its parser (the build fails until the field is there:
 * EveryFieldIn below), a line in deploy/memfarm.example.toml and a row in
 * docs/operations/config-file.md (test/cli/settings/ fails until both are there).
 */
export const SETTINGS = [
  {
    key: "coordinator.port",
    flag: "port",
    env: "MEMFARM_PORT",
    kind: "number",
    daemons: FARM,
    about: "the HTTP API's and dashboard's port (0: a free one)",
  },
  {
    key: "coordinator.host",
    flag: "host",
    kind: "text",
    daemons: FARM,
    about: "the address the HTTP API listens on",
  },
  {
    key: "coordinator.dataDir",
    flag: "data-dir",
    env: "MEMFARM_DATA_DIR",
    kind: "path",
    daemons: FARM,
    about: "the farm's SQLite database, credentials and embedded NATS store",
  },
  {
    key: "coordinator.nats",
    flag: "nats",
    kind: "list",
    daemons: FARM,
    about: "external NATS servers; none: start an embedded nats-server",
  },
  {
    key: "coordinator.natsCreds",
    flag: "creds",
    kind: "path",
    daemons: FARM,
    about: "the coordinator's credentials for the external NATS",
  },
  {
    key: "coordinator.natsPort",
    flag: "nats-port",
    kind: "number",
    daemons: FARM,
    about: "the embedded nats-server's port (0: a free one, kept)",
  },
  {
    key: "coordinator.natsHost",
    flag: "nats-host",
    kind: "text",
    daemons: FARM,
    about: "the address the embedded nats-server listens on (default 127.0.0.1)",
  },
  {
    key: "coordinator.advertiseNats",
    flag: "advertise-nats",
    kind: "list",
    daemons: FARM,
    about: "the NATS URLs agents added over SSH are told to use",
  },
  { key: "coordinator.jobsDir", flag: "jobs-dir", kind: "path", daemons: FARM, about: "the suite files" },
  {
    key: "coordinator.headroom",
    flag: "headroom",
    kind: "size",
    daemons: FARM,
    about: "memory kept back on each host (or 5% of it if more)",
  },
  {
    key: "coordinator.lostAfter",
    flag: "lost-after",
    kind: "duration",
    daemons: FARM,
    about: "an agent silent this long is lost and its jobs requeued",
  },
  {
    key: "coordinator.streamReplicas",
    flag: "stream-replicas",
    kind: "number",
    daemons: FARM,
    about: "copies of the reports stream (1 to 5)",
  },
  {
    key: "coordinator.backupDir",
    flag: "backup-dir",
    kind: "path",
    daemons: FARM,
    about: "where nightly backups go (none without it)",
  },
  {
    key: "coordinator.backupKeep",
    flag: "backup-keep",
    kind: "number",
    daemons: FARM,
    about: "how many nightly backups to keep",
  },
  {
    key: "coordinator.backupAt",
    flag: "backup-at",
    kind: "text",
    daemons: FARM,
    about: "the nightly backup's time, UTC",
  },
  {
    key: "coordinator.keepSamples",
    flag: "keep-samples",
    kind: "text",
    daemons: FARM,
    about: "age after which raw samples fold into per-minute summaries",
  },
  {
    key: "coordinator.keepLogs",
    flag: "keep-logs",
    kind: "text",
    daemons: FARM,
    about: "age after which logs are compressed or dropped",
  },
  {
    key: "coordinator.oldLogs",
    flag: "old-logs",
    kind: "text",
    daemons: FARM,
    about: "compress or drop old logs",
  },

  { key: "agent.nats", flag: "nats", kind: "list", daemons: AGENT, about: "the farm's NATS servers" },
  {
    key: "agent.creds",
    flag: "creds",
    kind: "path",
    daemons: AGENT,
    about: "this agent's NATS credentials (memfarm agents creds NAME)",
  },
  {
    key: "agent.name",
    flag: "name",
    kind: "text",
    daemons: ["agent", "up"],
    about: "the agent's name (default: the hostname's first label)",
  },
  {
    key: "agent.memory",
    flag: "memory",
    kind: "size",
    daemons: ["agent", "up"],
    about: "memory to advertise (default: the host's total)",
  },
  {
    key: "agent.labels",
    flag: "labels",
    kind: "labels",
    daemons: ["agent", "up"],
    about: "labels jobs can ask for",
  },
  {
    key: "agent.workDir",
    flag: "work-dir",
    kind: "path",
    daemons: AGENT,
    about: "builds, attempts and the outbox",
  },
  {
    key: "agent.sampleIntervalMs",
    flag: "sample-interval-ms",
    kind: "duration",
    daemons: AGENT,
    about: "how often memory is sampled; a bare number is milliseconds",
  },
  {
    key: "agent.allowLocalRepos",
    flag: "allow-local-repos",
    kind: "boolean",
    daemons: AGENT,
    about: "let jobs build from file:// URLs and local paths",
  },
  {
    key: "agent.buildCacheSize",
    flag: "build-cache-size",
    kind: "size",
    daemons: AGENT,
    about: "disk the finished builds may take; the least recently used beyond it are removed",
  },
  {
    key: "agent.noNewJobs",
    flag: "no-new-jobs",
    kind: "list",
    daemons: AGENT,
    about: "daily UTC windows in which no job starts (22:00-08:00)",
  },
  {
    key: "agent.drainTimeout",
    flag: "drain-timeout",
    kind: "duration",
    daemons: ["agent", "up"],
    about: "how long running jobs may finish after a stop signal",
  },

  {
    key: "github.webhookSecret",
    env: "MEMFARM_GITHUB_WEBHOOK_SECRET",
    kind: "secret",
    daemons: FARM,
    about: "turns the PR bot on: the webhook's secret",
  },
  {
    key: "github.apiUrl",
    env: "MEMFARM_GITHUB_API_URL",
    kind: "text",
    daemons: FARM,
    about: "GitHub's REST API (GitHub Enterprise: https://HOST/api/v3)",
  },
  {
    key: "github.token",
    env: "MEMFARM_GITHUB_TOKEN",
    kind: "secret",
    daemons: FARM,
    about: "the bot's token (or appId and privateKeyFile)",
  },
  {
    key: "github.appId",
    env: "MEMFARM_GITHUB_APP_ID",
    kind: "number",
    daemons: FARM,
    about: "the GitHub App's id",
  },
  {
    key: "github.privateKeyFile",
    env: "MEMFARM_GITHUB_PRIVATE_KEY_FILE",
    kind: "path",
    daemons: FARM,
    about: "the GitHub App's .pem private key",
  },
  {
    key: "github.repos",
    env: "MEMFARM_GITHUB_REPOS",
    kind: "list",
    daemons: FARM,
    about: "the repositories the bot answers in",
  },
  {
    key: "github.publicUrl",
    env: "MEMFARM_PUBLIC_URL",
    kind: "text",
    daemons: FARM,
    about: "the dashboard's address, for links",
  },

  {
    key: "log.level",
    flag: "log-level",
    env: "MEMFARM_LOG_LEVEL",
    kind: "text",
    daemons: ALL,
    about: "debug, info, warn or error",
  },
  {
    key: "log.format",
    flag: "log-format",
    env: "MEMFARM_LOG_FORMAT",
    kind: "text",
    daemons: ALL,
    about: "text, or json for JSON lines",
  },
] as const satisfies readonly Setting[];

export type SettingKey = (typeof SETTINGS)[number]["key"];
export type Section = SettingKey extends `${infer S}.${string}` ? S : never;
/** The fields of one section: `coordinator` → port, host, dataDir, ... */
export type FieldOf<S extends Section> = SettingKey extends infer K
  ? K extends `${S}.${infer F}`
    ? F
    : never
  : never;

/**
 * `true` when every field of the section is a field of `Options`, else the fields that are not: a
 * table entry with no option to fill then fails the build, by name (cli/commands/*: `true satisfies
 * EveryFieldIn<"coordinator", CoordinatorOptions>`).
 */
export type EveryFieldIn<S extends Section, Options> = [Exclude<FieldOf<S>, keyof Options>] extends [never]
  ? true
  : Exclude<FieldOf<S>, keyof Options>;
