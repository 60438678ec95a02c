/* name: GetAuthor :one */
-- args: 1
SELECT * FROM authors
WHERE id = ? LIMIT 1;

-- name: ListAuthorsByName :many
-- args: 'ada'
SELECT id, name FROM authors
WHERE name = sqlc.arg(name)
ORDER BY id;

-- name: CreateAuthor :exec
-- args: {{n}}, 'author{{n}}', 'author{{n}}@example.com'
INSERT INTO authors (id, name, email)
VALUES (sqlc.arg(id), sqlc.arg('name'), sqlc.narg(email));

-- name: AuthorsWithBooks :many
SELECT sqlc.embed(authors), books.title
FROM authors JOIN books ON books.author_id = authors.id;

-- name: BooksByAuthors :many
-- args: (1, 2)
SELECT id, title FROM books
WHERE author_id IN (sqlc.slice(author_ids));
