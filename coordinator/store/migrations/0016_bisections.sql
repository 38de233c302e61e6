-- Automatic bisection of a regression: the commits of its range (first-parent order, oldest first),
-- the probes run on them round by round, and what was found. One bisection per regression.
CREATE TABLE bisections (
  regression_id INTEGER PRIMARY KEY REFERENCES regressions (id),
  state         TEXT NOT NULL CHECK (state IN ('running', 'found', 'flaky', 'failed')),
  repo          TEXT NOT NULL,
  branch        TEXT NOT NULL,
  -- What each probe runs: the watch's job request with only the regression's test file, as JSON.
  request       TEXT NOT NULL,
  -- The range: [{sha, subject, author, time}], oldest first; the last one is the first bad commit seen.
  commits       TEXT NOT NULL DEFAULT '[]',
  rounds        INTEGER NOT NULL DEFAULT 0,
  culprit       TEXT,
  -- Set when commits that did not build leave the culprit among several.
  culprit_range TEXT,
  summary       TEXT,
  started_at    TEXT NOT NULL,
  finished_at   TEXT,
  comment_url   TEXT
);
CREATE INDEX bisections_running ON bisections (state) WHERE state = 'running';

CREATE TABLE bisection_probes (
  regression_id INTEGER NOT NULL REFERENCES bisections (regression_id),
  job_id        INTEGER NOT NULL,
  round         INTEGER NOT NULL,
  sha           TEXT NOT NULL,
  -- probe: a commit inside the range; confirm: a rerun of the boundary's two sides.
  purpose       TEXT NOT NULL CHECK (purpose IN ('probe', 'confirm')),
  -- NULL while the job runs; skip: it did not build (or ran nothing), as git bisect skip.
  verdict       TEXT CHECK (verdict IN ('good', 'bad', 'skip')),
  peak_bytes    INTEGER,
  outcome       TEXT,
  PRIMARY KEY (regression_id, job_id)
);
CREATE INDEX bisection_probes_by_job ON bisection_probes (job_id);

-- Opt-in per watch: a culprit found is commented on its pull request (when the PR bot is configured).
ALTER TABLE watches ADD COLUMN comment_on_culprit INTEGER NOT NULL DEFAULT 0;
