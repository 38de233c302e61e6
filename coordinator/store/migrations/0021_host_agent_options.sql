-- The agent options `hosts add` took for a host (--memory, --no-new-jobs, --drain-timeout), as JSON,
-- so that `hosts upgrade` installs the new agent with the same ones. (0021: 0020 is kept for the
-- retention work that was written beside this.)
ALTER TABLE hosts ADD COLUMN agent_options TEXT NOT NULL DEFAULT '{}';
