-- The new release's queries: the column is "full_name".

-- name: GetUser :one
-- args: 1
SELECT id, full_name, email FROM users WHERE id = $1;

-- name: CreateUser :exec
-- args: 1000{{n}}, 'user{{n}}', 'user{{n}}@example.com'
INSERT INTO users (id, full_name, email) VALUES ($1, $2, $3);

-- name: RenameUser :exec
-- args: 'Ada King', 1
UPDATE users SET full_name = $1 WHERE id = $2;
