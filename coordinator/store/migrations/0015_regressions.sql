-- Regressions a watch found: a test whose peak memory grew past its noise, or that passed and now
-- fails, leaks or ends oom; between the last good commit and the first bad one, with the numbers.
CREATE TABLE regressions (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  watch         TEXT NOT NULL,
  test          TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('memory', 'outcome')),
  good_commit   TEXT,
  bad_commit    TEXT,
  good_job      INTEGER NOT NULL,
  bad_job       INTEGER NOT NULL,
  base_bytes    INTEGER,
  new_bytes     INTEGER,
  noise_bytes   INTEGER,
  good_outcome  TEXT,
  bad_outcome   TEXT,
  opened_at     TEXT NOT NULL,
  closed_at     TEXT,
  closed_why    TEXT
);
CREATE INDEX regressions_open ON regressions (watch, test) WHERE closed_at IS NULL;
