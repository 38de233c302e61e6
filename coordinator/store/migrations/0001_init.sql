-- The first schema. Never edit a migration that has shipped: add 0002_*.sql instead.

CREATE TABLE jobs (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  suite             TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN
                      ('queued', 'assigned', 'running', 'passed', 'failed', 'oom', 'timed_out', 'canceled', 'error')),
  priority          TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high')),
  memlimit_bytes    INTEGER,
  reservation_bytes INTEGER NOT NULL,
  python            TEXT,
  ref               TEXT,
  repo              TEXT,
  commit_sha        TEXT,
  tests             TEXT NOT NULL DEFAULT '[]',   -- JSON list of regrtest test names
  labels            TEXT NOT NULL DEFAULT '{}',   -- JSON object
  provenance        TEXT NOT NULL DEFAULT '{}',   -- JSON object: who or what asked
  args              TEXT NOT NULL,                -- JSON list: the interpreter's arguments
  timeout_seconds   INTEGER NOT NULL,
  agent             TEXT,
  attempt_count     INTEGER NOT NULL DEFAULT 0,
  current_attempt   TEXT,
  cancel_requested  INTEGER NOT NULL DEFAULT 0,
  created_at        TEXT NOT NULL,
  started_at        TEXT,
  finished_at       TEXT,
  exit_code         INTEGER,
  signal            TEXT,
  peak_rss_bytes    INTEGER,
  count_run         INTEGER,
  count_failed      INTEGER,
  count_skipped     INTEGER,
  failed_tests      TEXT NOT NULL DEFAULT '[]',   -- JSON list
  held_reason       TEXT,
  error             TEXT
);
CREATE INDEX jobs_by_status ON jobs (status, id);
CREATE INDEX jobs_by_suite ON jobs (suite, id);
CREATE INDEX jobs_by_agent ON jobs (agent, status);

CREATE TABLE attempts (
  id          TEXT PRIMARY KEY,
  job_id      INTEGER NOT NULL REFERENCES jobs (id),
  number      INTEGER NOT NULL,
  agent       TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN
                ('assigned', 'running', 'passed', 'failed', 'oom', 'timed_out', 'canceled', 'error', 'lost', 'rejected')),
  started_at  TEXT,
  finished_at TEXT,
  last_seq    INTEGER NOT NULL DEFAULT 0,
  UNIQUE (job_id, number)
);

CREATE TABLE log_lines (
  job_id     INTEGER NOT NULL,
  line_no    INTEGER NOT NULL,
  attempt_id TEXT NOT NULL,
  stream     TEXT NOT NULL,
  text       TEXT NOT NULL,
  PRIMARY KEY (job_id, line_no)
) WITHOUT ROWID;

CREATE TABLE samples (
  job_id      INTEGER NOT NULL,
  attempt_id  TEXT NOT NULL,
  at          INTEGER NOT NULL,   -- milliseconds since the epoch
  rss_bytes   INTEGER NOT NULL,
  cpu_percent REAL NOT NULL,
  processes   INTEGER NOT NULL
);
CREATE INDEX samples_by_job ON samples (job_id, at);

CREATE TABLE agents (
  name              TEXT PRIMARY KEY,
  state             TEXT NOT NULL CHECK (state IN ('online', 'draining', 'lost')),
  drained           INTEGER NOT NULL DEFAULT 0,
  hostname          TEXT NOT NULL,
  arch              TEXT NOT NULL,
  cores             INTEGER NOT NULL,
  memory_bytes      INTEGER NOT NULL,
  capacity_bytes    INTEGER NOT NULL,
  used_bytes        INTEGER NOT NULL DEFAULT 0,
  labels            TEXT NOT NULL DEFAULT '{}',
  registered_at     TEXT NOT NULL,
  last_heartbeat_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  owner       TEXT NOT NULL,
  sha256      TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
);
