-- An attempt can end as `handed_back`: its agent shut down and gave the job back to be run elsewhere.
-- Such an attempt does not count against the job's attempt budget. SQLite cannot change a CHECK,
-- so the table is rebuilt with the same columns.

CREATE TABLE attempts_new (
  id          TEXT PRIMARY KEY,
  job_id      INTEGER NOT NULL REFERENCES jobs (id),
  number      INTEGER NOT NULL,
  agent       TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN
                ('assigned', 'running', 'passed', 'failed', 'oom', 'timed_out', 'canceled', 'error', 'lost', 'rejected',
                 'handed_back')),
  started_at  TEXT,
  finished_at TEXT,
  last_seq    INTEGER NOT NULL DEFAULT 0,
  UNIQUE (job_id, number)
);
INSERT INTO attempts_new (id, job_id, number, agent, status, started_at, finished_at, last_seq)
  SELECT id, job_id, number, agent, status, started_at, finished_at, last_seq FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;
