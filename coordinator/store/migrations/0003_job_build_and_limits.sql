-- What a job needs beyond a given interpreter: how to build CPython from a ref, and when silence means hung.

ALTER TABLE jobs ADD COLUMN configure_flags TEXT NOT NULL DEFAULT '[]';  -- JSON list, for ref builds
ALTER TABLE jobs ADD COLUMN no_output_timeout_seconds INTEGER NOT NULL DEFAULT 0;  -- 0: none
ALTER TABLE jobs ADD COLUMN limit_bytes INTEGER;  -- the memory limit the agent enforced (cgroup or watchdog)
ALTER TABLE jobs ADD COLUMN limit_kind TEXT;     -- cgroup-v2, cgroup-v1 or watchdog
