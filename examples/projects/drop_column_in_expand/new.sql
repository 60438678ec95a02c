-- name: GetUser :one
-- args: 1
SELECT id, name, created_at FROM users WHERE id = $1;

-- name: CreateUser :exec
-- args: 1000{{n}}, 'user{{n}}'
INSERT INTO users (id, name, created_at) VALUES ($1, $2, CURRENT_TIMESTAMP);
