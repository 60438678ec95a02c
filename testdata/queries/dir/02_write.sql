-- name: RenameUser :execrows
-- args: 'renamed', 1
UPDATE users SET name = $1 WHERE id = $2;
