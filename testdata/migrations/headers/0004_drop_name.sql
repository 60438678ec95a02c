-- Removes the old column once the old release is gone.
--
-- straddle:phase contract
ALTER TABLE users DROP COLUMN name;
