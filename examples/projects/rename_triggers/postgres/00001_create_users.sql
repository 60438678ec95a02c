-- +goose Up
-- straddle:phase baseline
CREATE TABLE users (
  id    BIGINT PRIMARY KEY,
  name  VARCHAR(100) NOT NULL,
  email VARCHAR(200)
);

INSERT INTO users (id, name, email) VALUES
  (1, 'Ada Lovelace', 'ada@example.com'),
  (2, 'Alan Turing', 'alan@example.com'),
  (3, 'Grace Hopper', NULL);

-- +goose Down
DROP TABLE users;
