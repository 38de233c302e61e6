-- How often each watch's history changed, so that the coordinator can keep a watch's history
-- answers in memory and know, with one look-up, whether one is still what the query would say
-- (coordinator/watches/history-cache.ts). The triggers below bump it in the same transaction as
-- every write that can change an answer (coordinator/store/watch-history-store.ts reads jobs,
-- job_tests and watch_commits), whichever code makes it: a write path added later cannot forget
-- to. A row is never deleted, so a watch removed and added again under its name counts on.
--
-- `changes` counts every such write. `rewrites` counts only those that can change a run whose job
-- had ended (its job row, its tests, the head it built, or a row deleted): the others touch jobs
-- still queued or running, or add new ones, so a cached answer can keep its ended runs and read
-- only the runs from its oldest open job on again.
CREATE TABLE watch_history_versions (
  watch TEXT PRIMARY KEY,
  changes INTEGER NOT NULL DEFAULT 0,
  rewrites INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Jobs: a new job of a watch; a change to a column a run shows; a job deleted.
CREATE TRIGGER watch_history_job_added AFTER INSERT ON jobs WHEN NEW.watch IS NOT NULL
BEGIN
  INSERT INTO watch_history_versions (watch, changes) VALUES (NEW.watch, 1)
    ON CONFLICT (watch) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER watch_history_open_job_changed
AFTER UPDATE OF id, watch, commit_sha, commit_time, status, current_attempt, peak_rss_bytes, started_at, finished_at ON jobs
WHEN NEW.watch IS NOT NULL AND OLD.watch IS NEW.watch AND OLD.id = NEW.id
  AND OLD.status IN ('queued', 'assigned', 'running')
BEGIN
  INSERT INTO watch_history_versions (watch, changes) VALUES (NEW.watch, 1)
    ON CONFLICT (watch) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER watch_history_ended_job_changed
AFTER UPDATE OF id, watch, commit_sha, commit_time, status, current_attempt, peak_rss_bytes, started_at, finished_at ON jobs
WHEN (OLD.watch IS NOT NULL OR NEW.watch IS NOT NULL)
  AND (OLD.watch IS NOT NEW.watch OR OLD.id <> NEW.id OR OLD.status NOT IN ('queued', 'assigned', 'running'))
BEGIN
  INSERT INTO watch_history_versions (watch, changes, rewrites)
    SELECT watch, 1, 1 FROM (SELECT OLD.watch AS watch UNION SELECT NEW.watch) WHERE watch IS NOT NULL
    ON CONFLICT (watch) DO UPDATE SET changes = changes + 1, rewrites = rewrites + 1;
END;

CREATE TRIGGER watch_history_job_deleted AFTER DELETE ON jobs WHEN OLD.watch IS NOT NULL
BEGIN
  INSERT INTO watch_history_versions (watch, changes, rewrites) VALUES (OLD.watch, 1, 1)
    ON CONFLICT (watch) DO UPDATE SET changes = changes + 1, rewrites = rewrites + 1;
END;

-- Tests: a result of a job of a watch, added or changed (an open job's, as progress brings them;
-- an ended job's would be a rewrite) or deleted.
CREATE TRIGGER watch_history_test_added AFTER INSERT ON job_tests
WHEN (SELECT watch FROM jobs WHERE id = NEW.job_id) IS NOT NULL
BEGIN
  INSERT INTO watch_history_versions (watch, changes, rewrites)
    SELECT watch, 1, status NOT IN ('queued', 'assigned', 'running') FROM jobs WHERE id = NEW.job_id
    ON CONFLICT (watch) DO UPDATE SET changes = changes + 1, rewrites = rewrites + excluded.rewrites;
END;

CREATE TRIGGER watch_history_test_changed
AFTER UPDATE OF job_id, attempt_id, kind, name, outcome, duration_seconds, peak_rss_bytes ON job_tests
BEGIN
  INSERT INTO watch_history_versions (watch, changes, rewrites)
    SELECT watch, 1, OLD.job_id <> NEW.job_id OR status NOT IN ('queued', 'assigned', 'running')
    FROM jobs WHERE id IN (OLD.job_id, NEW.job_id) AND watch IS NOT NULL
    ON CONFLICT (watch) DO UPDATE SET changes = changes + 1, rewrites = rewrites + excluded.rewrites;
END;

CREATE TRIGGER watch_history_test_deleted AFTER DELETE ON job_tests
BEGIN
  INSERT INTO watch_history_versions (watch, changes, rewrites)
    SELECT watch, 1, 1 FROM jobs WHERE id = OLD.job_id AND watch IS NOT NULL
    ON CONFLICT (watch) DO UPDATE SET changes = changes + 1, rewrites = rewrites + 1;
END;

-- Heads: a run shows when its watch saw its commit. A new head is a rewrite only if an ended job
-- of the watch built that commit (INSERT OR REPLACE of a head seen before); a head changed or
-- deleted always is.
CREATE TRIGGER watch_history_head_added AFTER INSERT ON watch_commits
BEGIN
  INSERT INTO watch_history_versions (watch, changes, rewrites)
    VALUES (NEW.watch, 1, EXISTS (SELECT 1 FROM jobs WHERE watch = NEW.watch AND commit_sha = NEW.sha
                                  AND status NOT IN ('queued', 'assigned', 'running')))
    ON CONFLICT (watch) DO UPDATE SET changes = changes + 1, rewrites = rewrites + excluded.rewrites;
END;

CREATE TRIGGER watch_history_head_changed AFTER UPDATE OF watch, sha, seen_at ON watch_commits
BEGIN
  INSERT INTO watch_history_versions (watch, changes, rewrites)
    SELECT watch, 1, 1 FROM (SELECT OLD.watch AS watch UNION SELECT NEW.watch) WHERE true
    ON CONFLICT (watch) DO UPDATE SET changes = changes + 1, rewrites = rewrites + 1;
END;

CREATE TRIGGER watch_history_head_deleted AFTER DELETE ON watch_commits
BEGIN
  INSERT INTO watch_history_versions (watch, changes, rewrites) VALUES (OLD.watch, 1, 1)
    ON CONFLICT (watch) DO UPDATE SET changes = changes + 1, rewrites = rewrites + 1;
END;
