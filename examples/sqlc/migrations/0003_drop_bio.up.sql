-- straddle:phase contract
-- The new release no longer reads bio; the old one does (SELECT * in its source,
-- expanded by sqlc into a column list that names bio).
ALTER TABLE authors DROP COLUMN bio;
