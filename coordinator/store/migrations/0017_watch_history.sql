-- When the commit a job built was committed (its committer date, as the agent read it from git),
-- so that a watch's history shows each commit's own time beside the time the watch saw it. NULL
-- for jobs without a build, and for jobs built by agents from before it.
ALTER TABLE jobs ADD COLUMN commit_time TEXT;

-- A watch's history at 10,000 runs (bench/watch-history.ts). Its jobs are read from one index that
-- holds every column the history shows, in place of 0014's (watch, id), which it also serves.
DROP INDEX jobs_by_watch;
CREATE INDEX jobs_of_watch ON jobs (watch, id, commit_sha, commit_time, status, current_attempt,
  peak_rss_bytes, started_at, finished_at) WHERE watch IS NOT NULL;
-- A test file's runs are one range of this index, newest job first; without it each run is a
-- look-up of the test in its job's tests. Files only: a job has about 500 test files and tens of
-- thousands of test cases, which would make the index as big as the table.
CREATE INDEX job_test_files_by_name ON job_tests (name, job_id, attempt_id, outcome, peak_rss_bytes,
  duration_seconds) WHERE kind = 'file';
-- Each run's head with the time the watch saw it, without reading the watch_commits row.
CREATE INDEX watch_commits_seen ON watch_commits (watch, sha, seen_at);
