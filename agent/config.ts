import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { readDrainTimeoutMs } from "../protocol/drain-timeout.ts";
import { parseDuration } from "../protocol/durations.ts";
import { ValidationError } from "../protocol/errors.ts";
import { splitList } from "../protocol/lists.ts";
import { agentNameFromHost, checkAgentName, parseLabels } from "../protocol/names.ts";
import { OWN_VERSION, type SpokenVersion } from "../protocol/protocol-version.ts";
import { parseSize } from "../protocol/sizes.ts";
import { type DailyWindow, parseWindows } from "../protocol/windows.ts";
import type { LimitMode } from "./limits/index.ts";

/** Raw agent options, as the CLI reads them. */
export interface AgentOptions {
  nats?: string;
  creds?: string;
  name?: string;
  memory?: string;
  labels?: string;
  workDir?: string;
  /** Milliseconds, or the flag's text (`200`, `1s`), read with parseDuration. */
  sampleIntervalMs?: number | string;
  allowLocalRepos?: boolean;
  /** Disk the finished builds may take (`50G`); the least recently used beyond it are removed. */
  buildCacheSize?: string;
  /** Grace between SIGTERM and SIGKILL when a job is canceled or times out. */
  killGraceMs?: number;
  /** Force a way to limit memory (tests); default: the best the host offers. */
  limitMode?: LimitMode;
  /** `22:00-08:00,...` (UTC): windows in which this host starts no new job. */
  noNewJobs?: string;
  /** Seconds running jobs may go on after a shutdown signal before they are handed back ("0": at once). */
  drainTimeout?: string;
  /**
   * For tests only (no flag sets it): the agent says it is this release and protocol instead of
   * its own (UNVERSIONED: it says nothing, as agents from before versions), so a test can run
   * mixed versions without editing package.json.
   */
  pretendVersion?: SpokenVersion;
  /**
   * For benchmarks only (no flag sets it): false probes the interpreter and makes the cgroup at
   * every job, as agents did before, to measure what the probe cache and prepared cgroups save.
   */
  startAhead?: boolean;
}

/**
 * What an error calls each option: where its value came from (`--memory`, `memfarm.toml:
 * agent.memory`; cli/settings/); the flag when not said.
 */
export type AgentNames = Partial<Record<keyof AgentOptions, string>>;

export interface AgentConfig {
  natsServers: string[];
  credsFile: string | undefined;
  name: string;
  /** Memory to advertise; undefined means the host's total. */
  memoryBytes: number | undefined;
  labels: Record<string, string>;
  workDir: string;
  sampleIntervalMs: number;
  /** Whether jobs may build from file:// URLs and local paths (tests, local mirrors). */
  allowLocalRepos: boolean;
  /** Disk the finished builds may take; undefined: no limit. */
  buildCacheBytes: number | undefined;
  killGraceMs: number;
  limitMode: LimitMode;
  blackouts: DailyWindow[];
  /** How long running attempts may finish after stop() before they are stopped and handed back. */
  drainTimeoutMs: number;
  /** What the agent says it is when it registers: its own release and protocol (tests may pretend). */
  version: SpokenVersion;
  /** Whether interpreter probes are cached and job cgroups made before jobs arrive (default true). */
  startAhead: boolean;
}

export const DEFAULT_SAMPLE_INTERVAL_MS = 1000;
export { DEFAULT_DRAIN_TIMEOUT_SECONDS } from "../protocol/drain-timeout.ts";

function readSampleIntervalMs(value: number | string | undefined, name: string): number {
  if (value === undefined) return DEFAULT_SAMPLE_INTERVAL_MS;
  const ms = typeof value === "number" ? value : parseDuration(value, name, { plainUnit: "ms" });
  if (!(ms >= 50 && ms <= 60_000)) {
    throw new ValidationError("invalid_value", `${name}: the sample interval must be 50 ms to 60 s`, name);
  }
  return ms;
}

/** This machine's agent name unless --name says otherwise. */
export function defaultAgentName(): string {
  return agentNameFromHost(hostname());
}

export function compileAgentConfig(options: AgentOptions, names: AgentNames = {}): AgentConfig {
  const name = (option: keyof AgentOptions, flag: string) => names[option] ?? flag;
  if (!options.nats) {
    throw new ValidationError(
      "missing_option",
      "--nats URL is required (the coordinator prints it), or agent.nats in the --config file",
      "nats",
    );
  }
  return {
    natsServers: splitList(options.nats),
    credsFile: options.creds,
    name: checkAgentName(options.name ?? defaultAgentName(), name("name", "--name")),
    memoryBytes:
      options.memory === undefined ? undefined : parseSize(options.memory, name("memory", "--memory")),
    labels: parseLabels(options.labels ?? "", name("labels", "--labels")),
    workDir: options.workDir ?? join(tmpdir(), "memfarm-agent"),
    sampleIntervalMs: readSampleIntervalMs(
      options.sampleIntervalMs,
      name("sampleIntervalMs", "--sample-interval-ms"),
    ),
    allowLocalRepos: options.allowLocalRepos ?? false,
    buildCacheBytes:
      options.buildCacheSize === undefined
        ? undefined
        : parseSize(options.buildCacheSize, name("buildCacheSize", "--build-cache-size")),
    killGraceMs: options.killGraceMs ?? 10_000,
    limitMode: options.limitMode ?? "auto",
    blackouts: parseWindows(options.noNewJobs ?? "", name("noNewJobs", "--no-new-jobs")),
    drainTimeoutMs: readDrainTimeoutMs(options.drainTimeout, name("drainTimeout", "--drain-timeout")),
    version: options.pretendVersion ?? OWN_VERSION,
    startAhead: options.startAhead ?? true,
  };
}
