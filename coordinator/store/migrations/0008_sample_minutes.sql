-- A per-minute summary of each job's samples, so that a chart of a long job reads minutes, not
-- samples: a bigmem job sampled at 1 Hz for six days has 500,000 samples, which take half a second
-- to read (measured with bench/dashboard-load.ts), against 8,400 minutes. Each minute keeps what a
-- min/max chart needs: the lowest and highest memory and CPU, when the highest memory was seen, the
-- first and last sample's time and how many samples there were. SamplesStore.append keeps it current.
CREATE TABLE sample_minutes (
  job_id          INTEGER NOT NULL,
  minute          INTEGER NOT NULL,   -- at / 60000
  first_at        INTEGER NOT NULL,   -- milliseconds since the epoch
  last_at         INTEGER NOT NULL,
  min_rss_bytes   INTEGER NOT NULL,
  max_rss_bytes   INTEGER NOT NULL,
  max_rss_at      INTEGER NOT NULL,   -- when max_rss_bytes was sampled: where a chart marks the peak
  min_cpu_percent REAL NOT NULL,
  max_cpu_percent REAL NOT NULL,
  max_processes   INTEGER NOT NULL,
  samples         INTEGER NOT NULL,
  PRIMARY KEY (job_id, minute)
) WITHOUT ROWID;

-- The samples stored so far. With a single max() aggregate SQLite takes the bare column (at) from
-- the row that has the maximum, so max_rss_at is exact; the other columns come in a second pass.
INSERT INTO sample_minutes (job_id, minute, first_at, last_at, min_rss_bytes, max_rss_bytes, max_rss_at,
                            min_cpu_percent, max_cpu_percent, max_processes, samples)
  SELECT job_id, at / 60000, 0, 0, 0, MAX(rss_bytes), at, 0, 0, 0, 0
  FROM samples GROUP BY job_id, at / 60000;

UPDATE sample_minutes SET
  first_at = s.first_at, last_at = s.last_at, min_rss_bytes = s.min_rss, min_cpu_percent = s.min_cpu,
  max_cpu_percent = s.max_cpu, max_processes = s.max_processes, samples = s.n
FROM (
  SELECT job_id, at / 60000 AS minute, MIN(at) AS first_at, MAX(at) AS last_at, MIN(rss_bytes) AS min_rss,
         MIN(cpu_percent) AS min_cpu, MAX(cpu_percent) AS max_cpu, MAX(processes) AS max_processes, COUNT(*) AS n
  FROM samples GROUP BY job_id, at / 60000
) AS s
WHERE sample_minutes.job_id = s.job_id AND sample_minutes.minute = s.minute;
