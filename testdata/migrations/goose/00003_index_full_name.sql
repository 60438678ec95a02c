-- +goose NO TRANSACTION
-- +goose Up
-- straddle:phase migrate
CREATE INDEX CONCURRENTLY users_full_name ON users (full_name);

-- +goose Down
DROP INDEX CONCURRENTLY users_full_name;
