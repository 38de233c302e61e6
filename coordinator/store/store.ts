import { AgentsStore } from "./agents-store.ts";
import { type Db, openDatabase } from "./database.ts";
import { JobsStore } from "./jobs-store.ts";
import { LogsStore } from "./logs-store.ts";
import { NatsCredentialsStore } from "./nats-credentials-store.ts";
import { SamplesStore } from "./samples-store.ts";
import { SessionsStore } from "./sessions-store.ts";
import { TestsStore } from "./tests-store.ts";
import { TokensStore } from "./tokens-store.ts";

/** The coordinator's SQLite store, one module per group of operations. */
export interface Store {
  db: Db;
  jobs: JobsStore;
  logs: LogsStore;
  samples: SamplesStore;
  tests: TestsStore;
  agents: AgentsStore;
  tokens: TokensStore;
  natsCredentials: NatsCredentialsStore;
  sessions: SessionsStore;
  close(): void;
}

export function openStore(file: string): Store {
  const db = openDatabase(file);
  return {
    db,
    jobs: new JobsStore(db),
    logs: new LogsStore(db),
    samples: new SamplesStore(db),
    tests: new TestsStore(db),
    agents: new AgentsStore(db),
    tokens: new TokensStore(db),
    natsCredentials: new NatsCredentialsStore(db),
    sessions: new SessionsStore(db),
    close: () => db.close(),
  };
}
