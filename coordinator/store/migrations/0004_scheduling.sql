-- Scheduling: exclusive jobs, learned reservations, agents' no-new-jobs windows, and history lookups.

ALTER TABLE jobs ADD COLUMN exclusive INTEGER NOT NULL DEFAULT 0;
-- The reservation the scheduler counts when history shows the suite needs less than it declares
-- (NULL: the declared reservation_bytes). The agent's limit stays at reservation_bytes.
ALTER TABLE jobs ADD COLUMN scheduled_bytes INTEGER;
ALTER TABLE agents ADD COLUMN blackouts TEXT NOT NULL DEFAULT '[]';  -- JSON: [{fromMinute, toMinute}] UTC
CREATE INDEX jobs_history ON jobs (suite, memlimit_bytes, status, id);
