-- straddle:phase expand
ALTER TABLE authors ADD COLUMN email VARCHAR(200);
