import { quoted, ValidationError } from "./errors.ts";
import { isFullCommitSha } from "./git-refs.ts";
import { type FinalStatus, isFinalStatus } from "./job-status.ts";
import { checkAgentName, checkInterpreterPath, checkLabels, isTestName } from "./names.ts";
import { readSpokenVersion, type VersionFields, versionFields } from "./protocol-version.ts";
import {
  readBoolean,
  readNumber,
  readObject,
  readOptionalNumber,
  readOptionalString,
  readOptionalStringArray,
  readString,
  readStringArray,
  readStringRecord,
} from "./validate.ts";
import type { DailyWindow } from "./windows.ts";

/** What an agent tells the coordinator about its host. */
export interface HostFacts {
  hostname: string;
  arch: string;
  cores: number;
  memoryBytes: number;
  labels: Record<string, string>;
  /** Daily UTC windows in which the host takes no new job (a benchmark run shares it at night). */
  blackouts: DailyWindow[];
}

export interface RegisterRequest extends VersionFields {
  name: string;
  facts: HostFacts;
  /** Attempts the agent is still running (after a reconnect). */
  running: string[];
  /** Attempts that ended whose result is on its way (or was just delivered): not lost. */
  finished: string[];
  /** The agent is shutting down: it finishes what it runs and takes no new work. */
  draining?: boolean;
  // VersionFields: the agent's release and protocol; agents from before versions send neither.
  // The coordinator refuses agents it cannot take (coordinator/nats/agent-versions.ts).
}

/** VersionFields: the coordinator's release and protocol; a coordinator from before versions sends neither. */
export interface RegisterReply extends VersionFields {
  heartbeatIntervalMs: number;
  /** Attempts the agent runs that are no longer its own (requeued elsewhere, canceled): stop them. */
  stop: string[];
}

export interface Heartbeat {
  name: string;
  usedBytes: number;
  running: string[];
  finished: string[];
  /** The agent is shutting down: it finishes what it runs and takes no new work. */
  draining?: boolean;
  /** The agent process's own cost, for the coordinator's /metrics; older agents leave it out. */
  self?: AgentSelfFigures;
}

/** What the agent process itself uses, since it started. */
export interface AgentSelfFigures {
  /** CPU time of the whole agent process (user + system), in microseconds. */
  cpuMicros: number;
  /** Of that, the time spent sampling job trees. */
  samplerCpuMicros: number;
  residentBytes: number;
}

export interface HeartbeatReply {
  /** The coordinator does not know this agent (it lost its state, or declared the agent lost). */
  reregister: boolean;
  stop: string[];
}

/**
 * agent → coordinator, request: the agent stopped an attempt because it is
 * shutting down, not because of the job. The job should run again elsewhere.
 */
export interface HandBack {
  name: string;
  attemptId: string;
  reason: string;
}

export interface HandBackReply {
  /** What became of the job: `queued` (it runs again), or final when it was canceled meanwhile. */
  jobStatus?: string;
}

/** How to build the interpreter for a job that names a git ref instead of an interpreter. */
export interface BuildSpec {
  repo: string;
  ref: string;
  configureFlags: string[];
  /**
   * The exact commit to build, when the job is pinned to one: a pull request's head as it was when
   * the command was read, or the commit an earlier attempt of the job built. The ref is where to
   * fetch it from; if the ref has moved on, the pinned commit is still the one built.
   */
  commit?: string;
}

/** One regrtest run that the coordinator hands to an agent; its job is the one its attempt id names. */
export interface Assignment {
  attemptId: string;
  /** A given interpreter, or null when the agent builds one from `build`. */
  python: string | null;
  build: BuildSpec | null;
  /** Arguments after the interpreter, e.g. `-m test -M 2G test_bigmem`; never passed to a shell. */
  args: string[];
  /** The most memory the job's process tree may use on the host (its reservation). */
  limitBytes: number;
  timeoutSeconds: number;
  /** Seconds without any output after which the job is stopped as hung; 0 for none. */
  noOutputTimeoutSeconds: number;
}

export interface AssignReply {
  accepted: boolean;
  reason?: string;
}

export interface CancelRequest {
  attemptId: string;
}

export interface CancelReply {
  /** Whether the agent was running the attempt. */
  known: boolean;
}

export interface ProbePythonRequest {
  python: string;
}

export interface ProbePythonReply {
  usable: boolean;
  version?: string;
  problem?: string;
  /** The test files of the interpreter's Lib/test (`test_os`, `test_asyncio`); agents before it send none. */
  tests?: string[];
}

export type LogStream = "stdout" | "stderr" | "system";

export interface LogLine {
  stream: LogStream;
  text: string;
  /** When the agent read the line, in milliseconds since the epoch; agents before it send none. */
  at?: number;
}

export interface Sample {
  /** Milliseconds since the epoch. */
  at: number;
  rssBytes: number;
  cpuPercent: number;
  processes: number;
}

export type TestOutcome = "passed" | "failed" | "error" | "skipped" | "timed_out" | "leaked";
export const TEST_OUTCOMES: readonly TestOutcome[] = [
  "passed",
  "failed",
  "error",
  "skipped",
  "timed_out",
  "leaked",
];

/**
 * How a test's peak was measured, best first:
 * - `cgroup`: the job cgroup's high-water mark, reset at the test's start (sequential runs):
 *   every process, children that exited, tmpfs and shared memory included.
 * - `worker-cgroup`: the high-water mark of the regrtest worker's own child cgroup (-j), as complete.
 * - `process-tree`: the largest VmHWM of the processes alive at the test's end: misses children
 *   that exited, and tmpfs and shared memory (a cgroup whose peak cannot be reset, or -j without
 *   worker cgroups).
 * - `process-tree-no-shm`: the same, with no cgroup at all (watchdog): tmpfs and /dev/shm are unmeasured.
 * - `regrtest`: regrtest's own `mem:` figure (its worker's RSS), nothing the agent measured.
 */
export type PeakMeasure = "cgroup" | "worker-cgroup" | "process-tree" | "process-tree-no-shm" | "regrtest";
export const PEAK_MEASURES: readonly PeakMeasure[] = [
  "cgroup",
  "worker-cgroup",
  "process-tree",
  "process-tree-no-shm",
  "regrtest",
];

/** One test file or test case of a run, with its own duration and peak memory where known. */
export interface TestRecord {
  /** `test_bigmem` for a file, `test.test_bigmem.StrTest.test_capitalize` for a case. */
  name: string;
  kind: "file" | "case";
  outcome: TestOutcome;
  /** Milliseconds since the epoch, when the agent saw the test start; null if unknown (-j workers). */
  startedAt: number | null;
  durationSeconds: number | null;
  peakRssBytes: number | null;
  /** How peakRssBytes was measured; absent from agents before it, and where there is no peak. */
  peakMeasuredBy?: PeakMeasure;
  /** Skip reason, leak report or failure summary. */
  detail: string | null;
}

/** Log lines and samples since the previous progress message of the same attempt. */
export interface Progress {
  attemptId: string;
  /** Starts at 1 and grows by one per message, so a redelivered message is recognised. */
  seq: number;
  started: boolean;
  log: LogLine[];
  samples: Sample[];
  /** Tests that finished since the previous message (a later record of the same test replaces it). */
  tests: TestRecord[];
  /** The exact commit, once the agent has resolved a ref. */
  commit?: string;
  /** That commit's committer time (ISO 8601 UTC), when git told; agents before it send none. */
  commitTime?: string;
  /** The interpreter's version (sys.version's first word), once the agent has checked it. */
  pythonVersion?: string;
}

export interface TestCounts {
  run: number;
  failed: number;
  skipped: number;
  /** regrtest's leak lines under `-R` (a leak fails the file, not a case); absent when none leaked. */
  leaks?: string[];
}

/** `46 run, 0 failed, 0 skipped; leaked: test_x leaked [945, 945, 945] references, sum=2835`, or `-`. */
export function describeCounts(counts: TestCounts | null): string {
  if (!counts) return "-";
  const base = `${counts.run} run, ${counts.failed} failed, ${counts.skipped} skipped`;
  return counts.leaks?.length ? `${base}; leaked: ${counts.leaks.join("; ")}` : base;
}

export interface AttemptResult {
  attemptId: string;
  status: FinalStatus;
  exitCode: number | null;
  signal: string | null;
  startedAt: string;
  finishedAt: string;
  peakRssBytes: number | null;
  counts: TestCounts | null;
  failedTests: string[];
  error: string | null;
  /** The memory limit the agent enforced, and how (cgroup-v2, cgroup-v1, watchdog); null if none was set up. */
  limitBytes: number | null;
  limitKind: string | null;
  /** The seq of the last progress message sent before this result. */
  lastSeq: number;
}

export function encode(message: unknown): string {
  return JSON.stringify(message);
}

function parseJson(data: Uint8Array | string): unknown {
  const text = typeof data === "string" ? data : new TextDecoder().decode(data);
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError("invalid_json", "message is not JSON");
  }
}

function readCount(fields: Record<string, unknown>, key: string, where: string): number {
  const value = readNumber(fields, key, where);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(
      "invalid_value",
      `${where}${key} must be a whole number >= 0`,
      `${where}${key}`,
    );
  }
  return value;
}

/** A list of attempt ids, bounded: an agent runs a handful of attempts, not thousands. */
function readIds(fields: Record<string, unknown>, key: string): string[] {
  const ids = readStringArray(fields, key);
  if (ids.length > 1000) throw new ValidationError("invalid_value", `${key} lists too many ids`, key);
  for (const id of ids) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id))
      throw new ValidationError("invalid_value", `${key} holds a bad id`, key);
  }
  return ids;
}

function readId(fields: Record<string, unknown>, key: string): string {
  const value = readString(fields, key);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    throw new ValidationError("invalid_value", `${key} is not an id`, key);
  }
  return value;
}

/** A DNS name (253 at most), leniently: hosts named with `_` exist. */
const HOSTNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;
/** `uname -m` names: x86_64, aarch64, ppc64le, s390x. */
const ARCH = /^[A-Za-z0-9_]{1,32}$/;

/**
 * A host fact shown on the dashboard and matched by placement: bounded, so an agent cannot store
 * a megabyte in the coordinator's database or a line break in its log.
 */
function readMatching(fields: Record<string, unknown>, key: string, pattern: RegExp, what: string): string {
  const value = readString(fields, key, "facts.");
  if (!pattern.test(value)) {
    throw new ValidationError(
      "invalid_value",
      `facts.${key} ${quoted(value)} is not ${what}`,
      `facts.${key}`,
    );
  }
  return value;
}

export function parseHostFacts(value: unknown): HostFacts {
  const fields = readObject(value, "facts");
  return {
    hostname: readMatching(fields, "hostname", HOSTNAME, "a host name (at most 253 letters, digits and .-_)"),
    arch: readMatching(fields, "arch", ARCH, "an architecture like x86_64 or aarch64"),
    cores: readCount(fields, "cores", "facts."),
    memoryBytes: readCount(fields, "memoryBytes", "facts."),
    labels: checkLabels(readStringRecord(fields, "labels", "facts."), "facts.labels"),
    blackouts: fields.blackouts === undefined ? [] : readArray(fields, "blackouts").map(parseWindow),
  };
}

export function parseRegisterRequest(data: Uint8Array | string): RegisterRequest {
  const fields = readObject(parseJson(data), "register");
  return {
    name: checkAgentName(readString(fields, "name")),
    facts: parseHostFacts(fields.facts),
    running: readIds(fields, "running"),
    finished: fields.finished === undefined ? [] : readIds(fields, "finished"),
    draining: readOptionalBoolean(fields, "draining"),
    ...versionFields(readSpokenVersion(fields, "the agent's ")),
  };
}

export function parseRegisterReply(fields: Record<string, unknown>): RegisterReply {
  return {
    heartbeatIntervalMs: readCount(fields, "heartbeatIntervalMs", ""),
    ...versionFields(readSpokenVersion(fields, "the coordinator's ")),
    stop: fields.stop === undefined ? [] : readIds(fields, "stop"),
  };
}

export function parseHeartbeat(data: Uint8Array | string): Heartbeat {
  const fields = readObject(parseJson(data), "heartbeat");
  return {
    name: checkAgentName(readString(fields, "name")),
    usedBytes: readCount(fields, "usedBytes", ""),
    running: readIds(fields, "running"),
    finished: fields.finished === undefined ? [] : readIds(fields, "finished"),
    draining: readOptionalBoolean(fields, "draining"),
    self: fields.self === undefined ? undefined : readSelfFigures(readObject(fields.self, "heartbeat self")),
  };
}

function readSelfFigures(fields: Record<string, unknown>): AgentSelfFigures {
  return {
    cpuMicros: readCount(fields, "cpuMicros", "self."),
    samplerCpuMicros: readCount(fields, "samplerCpuMicros", "self."),
    residentBytes: readCount(fields, "residentBytes", "self."),
  };
}

export function parseHeartbeatReply(fields: Record<string, unknown>): HeartbeatReply {
  return {
    reregister: fields.reregister === true,
    stop: fields.stop === undefined ? [] : readIds(fields, "stop"),
  };
}

export function parseHandBack(data: Uint8Array | string): HandBack {
  const fields = readObject(parseJson(data), "hand-back");
  return {
    name: checkAgentName(readString(fields, "name")),
    attemptId: readId(fields, "attemptId"),
    reason: readString(fields, "reason").slice(0, 500),
  };
}

export function parseHandBackReply(fields: Record<string, unknown>): HandBackReply {
  return { jobStatus: readOptionalString(fields, "jobStatus") };
}

/** Older agents leave optional flags out; false is what they mean. */
function readOptionalBoolean(fields: Record<string, unknown>, key: string): boolean {
  return fields[key] === undefined ? false : readBoolean(fields, key);
}

/**
 * Bounds on an assignment's regrtest arguments: a suite's options plus at most MAX_TESTS_PER_JOB
 * test names fit many times over; Linux refuses a single argument over 128 KiB anyway.
 */
const MAX_ARGS = 2000;
const MAX_ARG_LENGTH = 4096;

export function parseAssignment(data: Uint8Array | string): Assignment {
  const fields = readObject(parseJson(data), "assignment");
  const args = readStringArray(fields, "args");
  if (args.length > MAX_ARGS || args.some((arg) => arg.length > MAX_ARG_LENGTH)) {
    throw new ValidationError(
      "invalid_value",
      `args must be at most ${MAX_ARGS} arguments of at most ${MAX_ARG_LENGTH} characters`,
      "args",
    );
  }
  if (args.some((arg) => arg.includes("\0"))) {
    throw new ValidationError("invalid_value", "args must not contain NUL bytes", "args");
  }
  const givenPython = readOptionalString(fields, "python");
  const python = givenPython === undefined ? null : checkInterpreterPath(givenPython);
  const build = parseBuildSpec(fields.build);
  if ((python === null) === (build === null)) {
    throw new ValidationError("invalid_value", "an assignment names either python or build", "python");
  }
  return {
    attemptId: readId(fields, "attemptId"),
    python,
    build,
    args,
    limitBytes: readCount(fields, "limitBytes", ""),
    timeoutSeconds: readCount(fields, "timeoutSeconds", ""),
    noOutputTimeoutSeconds: readCount(fields, "noOutputTimeoutSeconds", ""),
  };
}

function parseBuildSpec(value: unknown): BuildSpec | null {
  if (value === undefined || value === null) return null;
  const fields = readObject(value, "build");
  const commit = readOptionalString(fields, "commit", "build.");
  if (commit !== undefined && !isFullCommitSha(commit)) {
    throw new ValidationError("invalid_value", "build.commit must be a full hex commit id", "build.commit");
  }
  return {
    repo: readString(fields, "repo", "build."),
    ref: readString(fields, "ref", "build."),
    configureFlags: readStringArray(fields, "configureFlags", "build."),
    ...(commit === undefined ? {} : { commit }),
  };
}

export function parseAssignReply(fields: Record<string, unknown>): AssignReply {
  return { accepted: readBoolean(fields, "accepted"), reason: readOptionalString(fields, "reason") };
}

export function parseCancelRequest(data: Uint8Array | string): CancelRequest {
  return { attemptId: readId(readObject(parseJson(data), "cancel"), "attemptId") };
}

export function parseCancelReply(fields: Record<string, unknown>): CancelReply {
  return { known: readBoolean(fields, "known") };
}

export function parseProbePythonRequest(data: Uint8Array | string): ProbePythonRequest {
  return { python: checkInterpreterPath(readString(readObject(parseJson(data), "probe"), "python")) };
}

export function parseProbePythonReply(fields: Record<string, unknown>): ProbePythonReply {
  return {
    usable: readBoolean(fields, "usable"),
    version: readOptionalString(fields, "version"),
    problem: readOptionalString(fields, "problem"),
    // Names that are not test names are dropped, not trusted: the list only ever refuses a job.
    ...(fields.tests === undefined
      ? {}
      : { tests: (readOptionalStringArray(fields, "tests") ?? []).filter(isTestName) }),
  };
}

function parseWindow(value: unknown): DailyWindow {
  const fields = readObject(value, "facts.blackouts[]");
  const window = {
    fromMinute: readCount(fields, "fromMinute", "facts.blackouts[]."),
    toMinute: readCount(fields, "toMinute", "facts.blackouts[]."),
  };
  if (window.fromMinute >= 1440 || window.toMinute >= 1440) {
    throw new ValidationError("invalid_value", "a blackout minute must be below 1440", "facts.blackouts");
  }
  return window;
}

function parseLogLine(value: unknown): LogLine {
  const fields = readObject(value, "log[]");
  const stream = readString(fields, "stream", "log[].");
  if (stream !== "stdout" && stream !== "stderr" && stream !== "system") {
    throw new ValidationError(
      "invalid_value",
      "log[].stream must be stdout, stderr or system",
      "log[].stream",
    );
  }
  const at = readOptionalNumber(fields, "at", "log[].");
  if (at !== undefined && !(Number.isInteger(at) && at >= 0)) {
    throw new ValidationError("invalid_value", "log[].at must be milliseconds since the epoch", "log[].at");
  }
  return { stream, text: readString(fields, "text", "log[]."), ...(at === undefined ? {} : { at }) };
}

function parseSample(value: unknown): Sample {
  const fields = readObject(value, "samples[]");
  return {
    at: readCount(fields, "at", "samples[]."),
    rssBytes: readCount(fields, "rssBytes", "samples[]."),
    cpuPercent: readNumber(fields, "cpuPercent", "samples[]."),
    processes: readCount(fields, "processes", "samples[]."),
  };
}

function readArray(fields: Record<string, unknown>, key: string): unknown[] {
  const value = fields[key];
  if (!Array.isArray(value)) throw new ValidationError("invalid_type", `${key} must be a list`, key);
  return value;
}

function parseTestRecord(value: unknown): TestRecord {
  const fields = readObject(value, "tests[]");
  const kind = readString(fields, "kind", "tests[].");
  if (kind !== "file" && kind !== "case") {
    throw new ValidationError("invalid_value", "tests[].kind must be file or case", "tests[].kind");
  }
  const outcome = readString(fields, "outcome", "tests[].");
  if (!(TEST_OUTCOMES as readonly string[]).includes(outcome)) {
    throw new ValidationError(
      "invalid_value",
      `tests[].outcome ${quoted(outcome)} is not known`,
      "tests[].outcome",
    );
  }
  const duration = readOptionalNumber(fields, "durationSeconds", "tests[].");
  const peak = readOptionalNumber(fields, "peakRssBytes", "tests[].");
  const startedAt = readOptionalNumber(fields, "startedAt", "tests[].");
  const measuredBy = readOptionalString(fields, "peakMeasuredBy", "tests[].");
  if (measuredBy !== undefined && !(PEAK_MEASURES as readonly string[]).includes(measuredBy)) {
    throw new ValidationError(
      "invalid_value",
      `tests[].peakMeasuredBy ${quoted(measuredBy)} is not known; use one of ${PEAK_MEASURES.join(", ")}`,
      "tests[].peakMeasuredBy",
    );
  }
  return {
    name: readString(fields, "name", "tests[]."),
    kind,
    outcome: outcome as TestOutcome,
    startedAt: startedAt ?? null,
    durationSeconds: duration ?? null,
    peakRssBytes: peak ?? null,
    ...(measuredBy === undefined ? {} : { peakMeasuredBy: measuredBy as PeakMeasure }),
    detail: readOptionalString(fields, "detail", "tests[].") ?? null,
  };
}

function progressFrom(fields: Record<string, unknown>): Progress {
  const commit = readOptionalString(fields, "commit");
  if (commit !== undefined && !isFullCommitSha(commit)) {
    throw new ValidationError("invalid_value", "commit must be a full hex commit id", "commit");
  }
  const commitTime = readOptionalString(fields, "commitTime");
  if (commitTime !== undefined && !isUtcTime(commitTime)) {
    throw new ValidationError(
      "invalid_value",
      "commitTime must be an ISO 8601 UTC time, like 2026-01-31T12:00:00.000Z",
      "commitTime",
    );
  }
  const pythonVersion = readOptionalString(fields, "pythonVersion");
  if (pythonVersion !== undefined && !/^\d+\.\d+[\w.+-]{0,40}$/.test(pythonVersion)) {
    throw new ValidationError(
      "invalid_value",
      "pythonVersion must be a Python version, like 3.14.0a1+",
      "pythonVersion",
    );
  }
  return {
    attemptId: readId(fields, "attemptId"),
    seq: readCount(fields, "seq", ""),
    started: readBoolean(fields, "started"),
    log: readArray(fields, "log").map(parseLogLine),
    samples: readArray(fields, "samples").map(parseSample),
    tests: fields.tests === undefined ? [] : readArray(fields, "tests").map(parseTestRecord),
    ...(commit === undefined ? {} : { commit }),
    ...(commitTime === undefined ? {} : { commitTime }),
    ...(pythonVersion === undefined ? {} : { pythonVersion }),
  };
}

/** A time as `Date.toISOString()` writes it (the milliseconds optional), and a real one (not 30 February). */
function isUtcTime(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(text)) return false;
  const time = Date.parse(text);
  return Number.isFinite(time) && new Date(time).toISOString().slice(0, 19) === text.slice(0, 19);
}

function parseCounts(value: unknown): TestCounts | null {
  if (value === null || value === undefined) return null;
  const fields = readObject(value, "counts");
  const leaks = readOptionalStringArray(fields, "leaks", "counts.");
  return {
    run: readCount(fields, "run", "counts."),
    failed: readCount(fields, "failed", "counts."),
    skipped: readCount(fields, "skipped", "counts."),
    ...(leaks?.length ? { leaks: leaks.slice(0, 50).map((line) => line.slice(0, 300)) } : {}),
  };
}

function resultFrom(fields: Record<string, unknown>): AttemptResult {
  const status = readString(fields, "status");
  if (!isFinalStatus(status)) {
    throw new ValidationError(
      "invalid_value",
      `status ${quoted(status)} is not a final job status`,
      "status",
    );
  }
  const exitCode = readOptionalNumber(fields, "exitCode");
  const peak = readOptionalNumber(fields, "peakRssBytes");
  return {
    attemptId: readId(fields, "attemptId"),
    status,
    exitCode: exitCode ?? null,
    signal: readOptionalString(fields, "signal") ?? null,
    startedAt: readString(fields, "startedAt"),
    finishedAt: readString(fields, "finishedAt"),
    peakRssBytes: peak ?? null,
    counts: parseCounts(fields.counts),
    failedTests: readStringArray(fields, "failedTests"),
    error: readOptionalString(fields, "error") ?? null,
    limitBytes: readOptionalNumber(fields, "limitBytes") ?? null,
    limitKind: readOptionalString(fields, "limitKind") ?? null,
    lastSeq: readCount(fields, "lastSeq", ""),
  };
}

/**
 * What travels on an agent's reports subject (JetStream): an attempt's progress or its result, in
 * the order the agent sent them. `kind` tells which.
 */
export type Report = ({ kind: "progress" } & Progress) | ({ kind: "result" } & AttemptResult);

/** The JetStream message id of a report: a republish of the same report is dropped by the stream. */
export function reportMessageId(report: Report): string {
  return report.kind === "progress" ? `${report.attemptId}.${report.seq}` : `${report.attemptId}.result`;
}

export function parseReport(data: Uint8Array | string): Report {
  const fields = readObject(parseJson(data), "report");
  const kind = readString(fields, "kind");
  if (kind === "progress") return { kind, ...progressFrom(fields) };
  if (kind === "result") return { kind, ...resultFrom(fields) };
  throw new ValidationError("invalid_value", `kind ${quoted(kind)} is not progress or result`, "kind");
}
