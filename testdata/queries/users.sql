-- Queries of the example application, as in shared/DESIGN.md.

-- name: GetUser :one
-- args: 1
SELECT id, name FROM users WHERE id = $1;

-- name: CreateUser :exec
-- args: 'user{{n}}', 'user{{n}}@example.com'
INSERT INTO users (name, email) VALUES ($1, $2);

-- name: ListActive :many
-- engine: postgres
-- expect: rows>=1
SELECT id FROM users WHERE active IS TRUE;
