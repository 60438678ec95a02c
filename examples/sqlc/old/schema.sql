CREATE TABLE authors (
    id   BIGINT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    bio  TEXT
);

CREATE TABLE books (
    id        BIGINT PRIMARY KEY,
    author_id BIGINT NOT NULL REFERENCES authors (id),
    title     VARCHAR(200) NOT NULL
);
