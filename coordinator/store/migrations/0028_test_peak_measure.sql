-- How each test's peak was measured (cgroup, worker-cgroup, process-tree, process-tree-no-shm, regrtest).
-- NULL for the tests of agents that did not say.
ALTER TABLE job_tests ADD COLUMN peak_measured_by TEXT;
