-- The release and wire protocol each agent said at its last registration, so that `memfarm hosts`
-- shows them and a newer coordinator can turn away agents it no longer takes. NULL and 0: an agent
-- from before versions were said (or a row from before this migration).
ALTER TABLE agents ADD COLUMN version TEXT;
ALTER TABLE agents ADD COLUMN protocol_version INTEGER NOT NULL DEFAULT 0;
