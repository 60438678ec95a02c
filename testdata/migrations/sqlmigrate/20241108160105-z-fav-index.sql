-- +migrate Up notransaction
CREATE INDEX CONCURRENTLY user_favorites_user ON user_favorites (user_id);

-- +migrate Down
DROP INDEX user_favorites_user;
