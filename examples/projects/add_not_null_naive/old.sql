-- name: GetUser :one
-- args: 1
SELECT id, name FROM users WHERE id = $1;

-- name: ListUsers :many
SELECT id, name FROM users ORDER BY id LIMIT 10;

-- name: CreateUser :exec
-- args: 1000{{n}}, 'user{{n}}'
INSERT INTO users (id, name) VALUES ($1, $2);
