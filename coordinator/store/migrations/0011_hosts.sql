-- Hosts added over SSH (memfarm hosts add): where they are, what was found and installed, the last
-- operation's outcome, a step log, and the farm's own known-hosts store (host keys pinned per address).

CREATE TABLE hosts (
  name          TEXT PRIMARY KEY,
  ssh_user      TEXT NOT NULL,
  address       TEXT NOT NULL,
  port          INTEGER NOT NULL,
  labels        TEXT NOT NULL DEFAULT '{}',
  status        TEXT NOT NULL CHECK (status IN ('working', 'ok', 'failed', 'removed')),
  operation     TEXT NOT NULL CHECK (operation IN ('add', 'upgrade', 'remove', 'facts')),
  step          TEXT,
  error         TEXT,
  facts         TEXT,
  agent_version TEXT,
  start_mode    TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

CREATE TABLE host_log (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  host    TEXT NOT NULL,
  at      TEXT NOT NULL,
  step    TEXT NOT NULL,
  level   TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
  message TEXT NOT NULL
);
CREATE INDEX host_log_by_host ON host_log (host, seq);

CREATE TABLE host_keys (
  address     TEXT NOT NULL,
  port        INTEGER NOT NULL,
  key_type    TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  PRIMARY KEY (address, port)
);
