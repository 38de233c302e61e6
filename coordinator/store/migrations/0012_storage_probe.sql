-- One row the coordinator rewrites every few seconds: a write that fails tells it, and /healthz,
-- that its disk is full or read-only before a report or a submit finds out.
CREATE TABLE storage_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  written_at TEXT NOT NULL
);
