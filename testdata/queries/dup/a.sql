-- name: GetUser :one
SELECT 1;
