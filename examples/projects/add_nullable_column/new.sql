-- name: GetUser :one
-- args: 1
SELECT id, name, email FROM users WHERE id = $1;

-- name: ListUsers :many
SELECT id, name, email FROM users ORDER BY id LIMIT 10;

-- name: CreateUser :exec
-- args: 1000{{n}}, 'user{{n}}', 'user{{n}}@example.com'
INSERT INTO users (id, name, email) VALUES ($1, $2, $3);

-- name: SetEmail :exec
-- args: 'ada@example.com', 1
UPDATE users SET email = $1 WHERE id = $2;
