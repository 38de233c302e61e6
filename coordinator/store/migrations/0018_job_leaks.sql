-- regrtest's leak lines of a refleak (-R) run, as JSON: a leak fails a test file, not a case, so the
-- case counts alone read "46 run, 0 failed" for a job that failed by leaking.
ALTER TABLE jobs ADD COLUMN count_leaks TEXT;
