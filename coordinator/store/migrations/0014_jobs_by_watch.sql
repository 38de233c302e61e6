-- The watch that queued a job, as a column (it is also in the provenance JSON), so that a watch's
-- history of thousands of runs is read through an index.
ALTER TABLE jobs ADD COLUMN watch TEXT;
UPDATE jobs SET watch = json_extract(provenance, '$.watch') WHERE json_extract(provenance, '$.watch') IS NOT NULL;
CREATE INDEX jobs_by_watch ON jobs (watch, id) WHERE watch IS NOT NULL;
