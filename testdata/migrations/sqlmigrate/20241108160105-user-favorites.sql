-- +migrate Up
CREATE TABLE user_favorites (id bigint PRIMARY KEY, user_id bigint NOT NULL);

-- +migrate Down
DROP TABLE user_favorites;
