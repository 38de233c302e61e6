-- Watched branches (memfarm watch add): where to look, what to run on each new head, how often,
-- what was seen last; and every head seen, with the job that tests it (NULL: a newer head took
-- its place in the queue, so it was not tested; bisection will look at those).

CREATE TABLE watches (
  name           TEXT PRIMARY KEY,
  repo           TEXT NOT NULL,
  branch         TEXT NOT NULL,
  suite          TEXT NOT NULL,
  memlimit_bytes INTEGER,
  tests          TEXT NOT NULL DEFAULT '[]',
  labels         TEXT NOT NULL DEFAULT '{}',
  every_seconds  INTEGER NOT NULL CHECK (every_seconds > 0),
  paused         INTEGER NOT NULL DEFAULT 0,
  requester      TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  checked_at     TEXT,
  head           TEXT,
  error          TEXT,
  queued_job     INTEGER
);

CREATE TABLE watch_commits (
  watch   TEXT NOT NULL,
  sha     TEXT NOT NULL,
  seen_at TEXT NOT NULL,
  job_id  INTEGER,
  PRIMARY KEY (watch, sha)
);
CREATE INDEX watch_commits_by_time ON watch_commits (watch, seen_at);
