import { AgentsStore } from "./agents-store.ts";
import { BisectionsStore } from "./bisections-store.ts";
import { type Db, openDatabase } from "./database.ts";
import { CheckRunsStore } from "./github-check-runs-store.ts";
import { DeliveriesStore } from "./github-deliveries-store.ts";
import { HostsStore } from "./hosts-store.ts";
import { JobStatesStore } from "./job-states-store.ts";
import { JobsStore } from "./jobs-store.ts";
import { LogsStore } from "./logs-store.ts";
import { NatsCredentialsStore } from "./nats-credentials-store.ts";
import { ProgressStore } from "./progress-store.ts";
import { RegressionsStore } from "./regressions-store.ts";
import { RetentionStore } from "./retention-store.ts";
import { SamplesStore } from "./samples-store.ts";
import { SessionsStore } from "./sessions-store.ts";
import { TestsStore } from "./tests-store.ts";
import { TokensStore } from "./tokens-store.ts";
import { WatchHistoryStore } from "./watch-history-store.ts";
import { WatchesStore } from "./watches-store.ts";

/** The coordinator's SQLite store, one module per group of operations. */
export interface Store {
  db: Db;
  jobs: JobsStore;
  /** Jobs' and attempts' state changes (called by coordinator/attempts/ only). */
  jobStates: JobStatesStore;
  logs: LogsStore;
  samples: SamplesStore;
  tests: TestsStore;
  /** Agents' progress reports, written across jobs, logs, samples and tests at once. */
  progress: ProgressStore;
  agents: AgentsStore;
  tokens: TokensStore;
  natsCredentials: NatsCredentialsStore;
  sessions: SessionsStore;
  hosts: HostsStore;
  /** The PR bot's: the check runs of the jobs it queued, and the webhook deliveries it handled. */
  checkRuns: CheckRunsStore;
  githubDeliveries: DeliveriesStore;
  /** Watched branches and the heads they saw. */
  watches: WatchesStore;
  /** A watch's runs, for a test or for whole jobs. */
  watchHistory: WatchHistoryStore;
  /** What the watches found got worse, open and closed. */
  regressions: RegressionsStore;
  /** The automatic bisections of regressions and their probe jobs. */
  bisections: BisectionsStore;
  /** Folding old samples and archiving old logs (coordinator/retention/ calls it). */
  retention: RetentionStore;
  close(): void;
}

export function openStore(file: string): Store {
  const db = openDatabase(file);
  const jobs = new JobsStore(db);
  const jobStates = new JobStatesStore(db);
  const logs = new LogsStore(db);
  const samples = new SamplesStore(db);
  const tests = new TestsStore(db);
  return {
    db,
    jobs,
    jobStates,
    logs,
    samples,
    tests,
    progress: new ProgressStore(db, jobs, jobStates, logs, samples, tests),
    agents: new AgentsStore(db),
    tokens: new TokensStore(db),
    natsCredentials: new NatsCredentialsStore(db),
    sessions: new SessionsStore(db),
    hosts: new HostsStore(db),
    checkRuns: new CheckRunsStore(db),
    githubDeliveries: new DeliveriesStore(db),
    watches: new WatchesStore(db),
    watchHistory: new WatchHistoryStore(db),
    regressions: new RegressionsStore(db),
    bisections: new BisectionsStore(db),
    retention: new RetentionStore(db),
    close: () => db.close(),
  };
}
