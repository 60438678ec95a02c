-- The old release's queries: it knows the column as "name".

-- name: GetUser :one
-- args: 1
SELECT id, name, email FROM users WHERE id = $1;

-- name: CreateUser :exec
-- args: 1000{{n}}, 'user{{n}}', 'user{{n}}@example.com'
INSERT INTO users (id, name, email) VALUES ($1, $2, $3);

-- name: RenameUser :exec
-- args: 'Ada King', 1
UPDATE users SET name = $1 WHERE id = $2;
