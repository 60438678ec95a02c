-- name: CountUsers :one
-- expect: rows=1
SELECT count(*) FROM users;
