CREATE TABLE users (
  id       BIGINT PRIMARY KEY,
  name     VARCHAR(100) NOT NULL,
  nickname VARCHAR(100)
);

INSERT INTO users (id, name, nickname) VALUES (1, 'Ada Lovelace', 'ada'), (2, 'Alan Turing', NULL);
