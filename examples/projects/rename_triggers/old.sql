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

-- name: CountNamelessUsers :one
-- The old code scans "name" into a non-nullable string: rows the new release
-- writes must have one too (the sync trigger copies full_name into name).
-- expect: value=0
SELECT count(*) FROM users WHERE name IS NULL;
