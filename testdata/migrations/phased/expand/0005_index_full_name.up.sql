CREATE INDEX users_full_name ON users (full_name);
