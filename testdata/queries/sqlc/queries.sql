-- A plain sqlc query file: no -- args: lines. straddle generates arguments from
-- the parameter types the server reports for each prepared statement.

-- name: GetAuthor :one
SELECT * FROM authors
WHERE id = $1 LIMIT 1;

-- name: ListAuthors :many
SELECT * FROM authors
ORDER BY name;

-- name: CreateAuthor :one
INSERT INTO authors (
  name, bio, kind
) VALUES (
  $1, $2, $3
)
RETURNING *;

-- name: DeleteAuthor :exec
DELETE FROM authors
WHERE id = $1;

-- name: AuthorsBornAfter :many
SELECT id FROM authors WHERE born > $1 AND name <> $2;
