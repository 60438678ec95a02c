# MySQL style comment; with a quote: don't split here
CREATE TABLE users (
    id   INT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    note VARCHAR(100) DEFAULT 'it\'s; fine'
);
