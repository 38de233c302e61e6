-- The dashboard: sign-in sessions, and indexes for the job list's host and ref filters, which
-- must stay fast with 100,000 jobs of history (the list is newest first: id DESC within a filter).

-- A session holds no token: only the hash of its own random id and the hash of the API token it
-- was opened with, so revoking that token ends the session at once.
CREATE TABLE dashboard_sessions (
  id_sha256    TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL
);
CREATE INDEX dashboard_sessions_by_token ON dashboard_sessions (token_sha256);

CREATE INDEX jobs_by_agent_id ON jobs (agent, id);
CREATE INDEX jobs_by_ref ON jobs (ref, id);
