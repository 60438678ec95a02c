-- name: GetUser :one
-- args: 1
SELECT id, name, nickname FROM users WHERE id = $1;

-- name: CreateUser :exec
-- args: 1000{{n}}, 'user{{n}}', NULL
INSERT INTO users (id, name, nickname) VALUES ($1, $2, $3);
