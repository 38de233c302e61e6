-- When the commit a job built was committed (its committer date, as the agent read it from git),
-- so that a watch's history shows each commit's own time beside the time the watch saw it. NULL
-- for jobs without a build, and for jobs built by agents from before it.
ALTER TABLE jobs ADD COLUMN commit_time TEXT;
