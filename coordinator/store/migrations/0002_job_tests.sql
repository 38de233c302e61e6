-- Per-test results: each test file and test case of an attempt, with its duration and peak memory.

CREATE TABLE job_tests (
  job_id           INTEGER NOT NULL REFERENCES jobs (id),
  attempt_id       TEXT NOT NULL,
  kind             TEXT NOT NULL CHECK (kind IN ('file', 'case')),
  name             TEXT NOT NULL,
  outcome          TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'error', 'skipped', 'timed_out', 'leaked')),
  started_at       INTEGER,            -- milliseconds since the epoch
  duration_seconds REAL,
  peak_rss_bytes   INTEGER,
  detail           TEXT,
  PRIMARY KEY (job_id, attempt_id, kind, name)
) WITHOUT ROWID;
