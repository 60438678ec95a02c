-- name: Other :one
SELECT 2;

-- name: GetUser :one
SELECT 3;
