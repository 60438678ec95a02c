-- +goose Up
CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO users VALUES (1, 'it''s; fine');

-- +goose Down
DROP TABLE users;
