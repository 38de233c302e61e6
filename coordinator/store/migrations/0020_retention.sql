-- Retention (coordinator/retention/): what it did to old jobs, so that readers know where to look.

-- Jobs whose raw samples were folded away: sample_minutes (0008) holds all that their charts draw,
-- and a job listed here is read from its minutes only, even while its rows are being deleted in
-- small batches. `samples` is how many raw samples there were.
CREATE TABLE sample_folds (
  job_id    INTEGER PRIMARY KEY,
  folded_at TEXT NOT NULL,
  samples   INTEGER NOT NULL
);

-- Logs of old jobs, compressed into one gzip blob (JSON, one [line_no, attempt_id, stream, text]
-- array a line) or dropped, as --old-logs says. A job listed here is read from its blob (nothing,
-- if dropped); log_lines rows up to `lines` are leftovers that later batches delete.
CREATE TABLE log_archives (
  job_id      INTEGER PRIMARY KEY,
  action      TEXT NOT NULL CHECK (action IN ('compressed', 'dropped')),
  archived_at TEXT NOT NULL,
  lines       INTEGER NOT NULL,    -- the number of the last line archived
  text_bytes  INTEGER NOT NULL,    -- the lines' text as stored before, for the record
  gzip        BLOB                 -- NULL when dropped
);
