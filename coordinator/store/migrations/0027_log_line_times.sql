-- When the agent read each log line (ms since the epoch), for the job page's times and build steps.
-- NULL for the lines of agents that sent no time.
ALTER TABLE log_lines ADD COLUMN at_ms INTEGER;
