import type { InstalledAgentOptions } from "./installed-agent-config.ts";
import type { AgentState, JobStatus, Priority } from "./job-status.ts";
import type { TestCounts } from "./messages.ts";

/**
 * The JSON resources of the HTTP API (camelCase, sizes in bytes, times ISO
 * 8601 UTC). The CLI and the dashboard read exactly these; keep them stable.
 */
/** `handed_back`: the agent shut down and gave the job back; it does not count against the attempt budget. */
export type AttemptStatus = JobStatus | "lost" | "rejected" | "handed_back";

export interface AttemptResource {
  id: string;
  number: number;
  agent: string;
  status: AttemptStatus;
  startedAt: string | null;
  finishedAt: string | null;
  /** Why it ended as it did, when the farm decided (e.g. "agent a1 was lost"). */
  note: string | null;
  /** The outcome of a result that arrived after this attempt had stopped being current: rejected. */
  lateResult: string | null;
}

export interface Provenance {
  /** `cli`, `dashboard`, `api` or `github`. */
  source: string;
  /** The owner of the token that submitted the job. */
  requester: string;
  retryOf?: number;
  /** The pull request a job was asked for on GitHub (source `github`). */
  pullRequest?: PullRequestProvenance;
  /** The watch that queued the job for a new head of its branch (source `watch`). */
  watch?: string;
  /** The regression whose culprit this job looks for (source `bisect`). */
  bisect?: number;
}

/** A watched branch: every new head is tested (`memfarm watch add`). */
export interface WatchResource {
  name: string;
  repo: string;
  branch: string;
  suite: string;
  memlimitBytes: number | null;
  tests: string[];
  labels: Record<string, string>;
  /** How often the branch's head is looked up. */
  everySeconds: number;
  /** A culprit a bisection finds is commented on its pull request (when the PR bot is configured). */
  commentOnCulprit: boolean;
  paused: boolean;
  /** Who added it (a token's owner). */
  requester: string;
  createdAt: string;
  /** When the head was last looked up, and what it was. */
  checkedAt: string | null;
  head: string | null;
  /** Why the last look-up failed (the remote is down, the branch is gone), or null. */
  error: string | null;
  /** The watch's one job waiting in the queue, if any: a newer head takes its place. */
  queuedJobId: number | null;
  /** The heads seen, newest first (a bounded list). */
  commits: WatchCommitResource[];
}

/** One run of a watch: a job on one head, and (for `?test=`) that test's figures in it. */
export interface WatchRunResource {
  jobId: number;
  commit: string | null;
  /** When the commit was committed (its committer date), once an agent has built it. */
  commitTime: string | null;
  /** When the watch first saw this head. */
  seenAt: string | null;
  /** The job's status. */
  status: string;
  /** The test's outcome in the job, or null for the whole job. */
  outcome: string | null;
  /** The test's peak (or the job's), and its duration (or the job's run time). */
  peakRssBytes: number | null;
  durationSeconds: number | null;
}

/** A test of a watch that got worse between two commits (see coordinator/watches/regressions.ts). */
export interface RegressionResource {
  id: number;
  watch: string;
  test: string;
  /** `memory`: its peak grew past its noise; `outcome`: it passed and now fails, leaks or ends oom. */
  kind: "memory" | "outcome";
  goodCommit: string | null;
  badCommit: string | null;
  goodJobId: number;
  badJobId: number;
  /** The test's usual peak before (the median of its last good runs), its peak now, and the noise allowed. */
  baseBytes: number | null;
  newBytes: number | null;
  noiseBytes: number | null;
  goodOutcome: string | null;
  badOutcome: string | null;
  openedAt: string;
  /** Null while open; closed when a later commit is back within the noise, or by hand. */
  closedAt: string | null;
  closedWhy: string | null;
  /** The automatic search for its culprit commit; null when none started (no commit to start from). */
  bisection?: BisectionResource | null;
}

/** A commit of a bisected range, as the coordinator's mirror of the repository tells it. */
export interface RangeCommit {
  sha: string;
  subject: string;
  /** `Name <email>`. */
  author: string;
  /** The committer's time, ISO 8601. */
  time: string;
}

/** One job a bisection ran, on one commit, and what it said of the regression there. */
export interface BisectionProbe {
  jobId: number;
  round: number;
  sha: string;
  /** `probe`: a commit inside the range; `confirm`: a rerun of the boundary's two sides. */
  purpose: "probe" | "confirm";
  /** Null while the job runs; `skip`: it did not build or ran nothing, as `git bisect skip`. */
  verdict: "good" | "bad" | "skip" | null;
  peakBytes: number | null;
  outcome: string | null;
}

/**
 * The farm's search for the commit that caused a regression (issue 14): `running`; `found` (the
 * culprit, confirmed by a rerun of each side of the boundary); `flaky` (a rerun disagreed: the
 * test is not blamed on a commit); `failed` (the range could not be read, or a probe was refused).
 */
export interface BisectionResource {
  regressionId: number;
  state: "running" | "found" | "flaky" | "failed";
  repo: string;
  branch: string;
  /** The range, oldest first; the last commit is the first bad one the watch saw. */
  commits: RangeCommit[];
  rounds: number;
  culprit: RangeCommit | null;
  /** When commits that did not build sit before the culprit: every commit it may be, oldest first. */
  culpritRange: string[] | null;
  /** In words: what was found, or why not. */
  summary: string | null;
  probes: BisectionProbe[];
  startedAt: string;
  finishedAt: string | null;
  /** The comment on the culprit's pull request, when one was written. */
  commentUrl: string | null;
}

/** A head of a watched branch and what became of it. */
export interface WatchCommitResource {
  sha: string;
  seenAt: string;
  /** When it was committed (its committer date), once its job's agent has built it; else null. */
  commitTime: string | null;
  /** The job that tests it; null when a newer head took its place in the queue (untested). */
  jobId: number | null;
}

export interface PullRequestProvenance {
  /** `owner/name` of the base repository. */
  repository: string;
  number: number;
  /** The pull request's page. */
  url: string;
  /** The head commit when the command was read; the check run is on it. */
  headSha: string;
  /** The branch the pull request targets; its latest job of the same suite is the comparison. */
  baseRef: string;
  /** The comment that asked, or null for a label. */
  commentUrl: string | null;
}

export interface JobResource {
  id: number;
  suite: string;
  status: JobStatus;
  priority: Priority;
  memlimitBytes: number | null;
  reservationBytes: number;
  python: string | null;
  ref: string | null;
  repo: string | null;
  commit: string | null;
  /** When `commit` was committed (its committer date), as the agent that built it read it from git. */
  commitTime: string | null;
  /** The Python version the job ran (e.g. `3.14.0a1+`), as its agent read it; null until it knew. */
  pythonVersion: string | null;
  tests: string[];
  labels: Record<string, string>;
  provenance: Provenance;
  agent: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationSeconds: number | null;
  exitCode: number | null;
  signal: string | null;
  peakRssBytes: number | null;
  counts: TestCounts | null;
  failedTests: string[];
  heldReason: string | null;
  error: string | null;
  timeoutSeconds: number;
  noOutputTimeoutSeconds: number;
  /** `./configure` flags when the job builds CPython from `ref`. */
  configureFlags: string[];
  /** The memory limit the agent enforced on the job's process tree, and how (cgroup-v2, cgroup-v1, watchdog). */
  limitBytes: number | null;
  limitKind: string | null;
  /** The job needs a whole host. */
  exclusive: boolean;
  /** The reservation the scheduler counts when history shows the suite needs less than declared; null: reservationBytes. */
  scheduledBytes: number | null;
  args: string[];
  /** regrtest worker processes (`-jN`; 1: one process); the reservation counts each. */
  workers: number;
  attempts: AttemptResource[];
}

export interface AgentResource {
  name: string;
  state: AgentState;
  hostname: string;
  arch: string;
  cores: number;
  memoryBytes: number;
  capacityBytes: number;
  reservedBytes: number;
  usedBytes: number;
  labels: Record<string, string>;
  registeredAt: string;
  lastHeartbeatAt: string;
  runningJobs: number[];
  /** Daily windows in which the agent starts no new job, e.g. `22:00–08:00 UTC`. */
  noNewJobs: string[];
  /** The memfarm release the agent said at its last registration; null: from before versions (< 0.1.0). */
  version: string | null;
  /** Its wire protocol (protocol/protocol-version.ts); 0 for an agent from before versions. */
  protocolVersion: number;
}

/** What `GET /agents` says of the coordinator, beside `agents`: whose versions it takes. */
export interface CoordinatorVersionResource {
  version: string;
  protocolVersion: number;
  /** The agents' release lines it takes, e.g. `0.3.x and 0.2.x` (docs/operations/upgrade.md). */
  takesAgents: string;
}

export interface LogLineResource {
  lineNo: number;
  attemptId: string;
  stream: string;
  text: string;
  /** When the agent read the line (ISO 8601 UTC); absent for lines of agents that sent no time. */
  at?: string;
}

/**
 * What retention did to an old job's log (`GET /jobs/:id/log` answers it as `archived`): compressed
 * (every line still served) or dropped (none left), when, and the number of its last line.
 */
export interface LogArchiveResource {
  action: "compressed" | "dropped";
  archivedAt: string;
  lines: number;
}

export interface TestResource {
  name: string;
  kind: "file" | "case";
  outcome: string;
  attemptId: string;
  startedAt: string | null;
  durationSeconds: number | null;
  peakRssBytes: number | null;
  /** How the peak was measured (see PeakMeasure in messages.ts); null when the agent did not say. */
  peakMeasuredBy: string | null;
  detail: string | null;
}

export interface SampleResource {
  at: string;
  rssBytes: number;
  cpuPercent: number;
  processes: number;
}

/** An API token's record; the secret itself is shown once, when it is created, and never stored. */
export interface TokenResource {
  id: number;
  owner: string;
  createdAt: string;
  revokedAt: string | null;
}

/** What `POST /tokens` answers: the record and, this once, the secret. */
export interface CreatedTokenResource extends TokenResource {
  token: string;
}

/** What `GET /whoami` answers: whom the bearer token belongs to (`memfarm login` checks a token with it). */
export interface WhoamiResource {
  owner: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}

/** The outcome of the last operation on a host added over SSH. */
export type HostStatus = "working" | "ok" | "failed" | "removed";
export type HostOperation = "add" | "upgrade" | "remove" | "facts";

/** One line of a host's step log (`GET /hosts/:name`, the CLI prints them as they come). */
export interface HostLogLine {
  seq: number;
  at: string;
  step: string;
  level: "info" | "warn" | "error";
  message: string;
}

/** A host added over SSH. `GET /hosts/:name?after=SEQ` returns the log lines after SEQ. */
export interface HostResource {
  name: string;
  target: string;
  status: HostStatus;
  operation: HostOperation;
  /** The step running (working) or that failed (failed). */
  step: string | null;
  /** Why the operation failed and what to fix. */
  error: string | null;
  labels: Record<string, string>;
  facts: Record<string, unknown> | null;
  agentVersion: string | null;
  /** "systemd-system", "systemd-user" or "detached". */
  startMode: string | null;
  /** The agent options `hosts add` was given (memory, noNewJobs, drainTimeout), as written. */
  agentOptions: InstalledAgentOptions;
  hostKey: string | null;
  createdAt: string;
  updatedAt: string;
  log: HostLogLine[];
}

/** `GET /compare?base=A&head=B`: two jobs side by side, test by test (coordinator/dashboard/compare-tests.ts). */
export interface ComparedTest {
  name: string;
  kind: "file" | "case";
  basePeakBytes: number | null;
  headPeakBytes: number | null;
  /** head - base in bytes, or null when either side has no peak. */
  deltaBytes: number | null;
  /** (head - base) / base, or null when either side has no peak. */
  growth: number | null;
  grew: boolean;
  /** The test's outcome in each job, or null when it did not run there. */
  baseOutcome: string | null;
  headOutcome: string | null;
}
/** What a comparison's header says of each job: what ran (ref, commit, interpreter) and how it ended. */
export interface ComparedJob {
  id: number;
  suite: string;
  status: string;
  ref: string | null;
  repo: string | null;
  commit: string | null;
  python: string | null;
  pythonVersion: string | null;
  agent: string | null;
  peakRssBytes: number | null;
  durationSeconds: number | null;
}
/** `GET /api/v1/compare?base=A&head=B`: two jobs and their tests, ordered by change. */
export interface JobComparison {
  base: ComparedJob;
  head: ComparedJob;
  tests: ComparedTest[];
}
