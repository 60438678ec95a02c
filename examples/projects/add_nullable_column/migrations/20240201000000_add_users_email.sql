-- migrate:up
-- Additive and nullable: old writers that name their columns keep working.
ALTER TABLE users ADD COLUMN email VARCHAR(200);

-- migrate:down
ALTER TABLE users DROP COLUMN email;
