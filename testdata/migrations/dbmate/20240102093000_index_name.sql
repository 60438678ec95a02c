-- migrate:up transaction:false
-- straddle:phase expand
CREATE INDEX CONCURRENTLY users_name ON users (name);

-- migrate:down
DROP INDEX users_name;
