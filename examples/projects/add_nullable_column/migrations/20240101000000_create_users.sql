-- migrate:up
CREATE TABLE users (
  id   BIGINT PRIMARY KEY,
  name VARCHAR(100) NOT NULL
);

INSERT INTO users (id, name) VALUES (1, 'Ada Lovelace'), (2, 'Alan Turing');

-- migrate:down
DROP TABLE users;
