-- +goose Up
-- straddle:phase contract
-- The old release is gone: remove the old shape. From here on, rolling back to
-- the old release is no longer possible.
DROP TRIGGER users_sync_full_name_insert;
DROP TRIGGER users_sync_full_name_update;
ALTER TABLE users DROP COLUMN name;

-- +goose Down
ALTER TABLE users ADD COLUMN name VARCHAR(100);
UPDATE users SET name = full_name;
