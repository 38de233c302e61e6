-- The pull-request bot's durable state: webhook deliveries already handled (GitHub redelivers),
-- and, per job the bot queued, what GitHub has been told so far, so that a failed call or a
-- coordinator restart is caught up from here.

CREATE TABLE github_deliveries (
  delivery_id TEXT PRIMARY KEY,
  event       TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX github_deliveries_by_time ON github_deliveries (received_at);

CREATE TABLE github_check_runs (
  job_id           INTEGER PRIMARY KEY REFERENCES jobs (id),
  repository       TEXT NOT NULL,              -- owner/name
  pr_number        INTEGER NOT NULL,
  head_sha         TEXT NOT NULL,
  installation_id  INTEGER,                    -- a GitHub App's installation; NULL with a token
  check_run_id     INTEGER,                    -- NULL until GitHub has created it
  reported         TEXT NOT NULL DEFAULT 'none' CHECK (reported IN ('none', 'in_progress', 'completed')),
  comment_posted   INTEGER NOT NULL DEFAULT 0,
  failures         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT NOT NULL,
  last_error       TEXT,
  gave_up          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX github_check_runs_pending ON github_check_runs (gave_up, next_attempt_at);
