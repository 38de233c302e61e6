-- The Python version the job ran (sys.version's first word, e.g. 3.14.0a1+), as its agent read it:
-- the header of a job page or a comparison names it, not the interpreter's path. Numbered 0025 so
-- that migrations written beside it on other branches (0020, 0022-0024) keep their numbers.
ALTER TABLE jobs ADD COLUMN python_version TEXT;
