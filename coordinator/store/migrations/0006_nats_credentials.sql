-- NATS credentials of agents: one NKey user per issue. Only the public key is kept (the seed goes to
-- the agent's credentials file and nowhere else); a revoked key stays for the record.

CREATE TABLE nats_credentials (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  agent       TEXT NOT NULL,
  public_key  TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
);
-- At most one key in force per agent: issuing again replaces the old key.
CREATE UNIQUE INDEX nats_credentials_active ON nats_credentials (agent) WHERE revoked_at IS NULL;
