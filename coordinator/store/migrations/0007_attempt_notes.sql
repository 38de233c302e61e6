-- Why an attempt ended the way it did ("agent a1 was lost"), and the outcome of a result that
-- arrived after the attempt had stopped being the job's current one: recorded, never applied.
ALTER TABLE attempts ADD COLUMN note TEXT;
ALTER TABLE attempts ADD COLUMN late_result TEXT;
