package workload

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
)

// TestSQLCNumbering checks named parameters are numbered as sqlc numbers them.
// Each want is what sqlc v1.31.1 generated for the input (sqlc generate, engine
// postgresql or mysql, pgx/v5): the $N it wrote, or the order of the Params
// struct's fields for mysql, whose code keeps ?.
func TestSQLCNumbering(t *testing.T) {
	tests := []struct {
		name   string
		family engine.Family
		sql    string
		want   string
		reason string
	}{
		{"select clauses", engine.Postgres,
			"WITH w AS (SELECT bk.id FROM books bk WHERE bk.title = @w_title)\nSELECT a.id, @sel::int AS s FROM authors a JOIN books b ON b.author_id = a.id AND b.title = @on_title WHERE a.name = @where_name GROUP BY a.id, b.id HAVING count(*) > @having_n ORDER BY @ord::int LIMIT @lim OFFSET @off",
			"WITH w AS (SELECT bk.id FROM books bk WHERE bk.title = $8)\nSELECT a.id, $1::int AS s FROM authors a JOIN books b ON b.author_id = a.id AND b.title = $2 WHERE a.name = $3 GROUP BY a.id, b.id HAVING count(*) > $4 ORDER BY $5::int LIMIT $7 OFFSET $6",
			"target list, FROM, WHERE, GROUP BY, HAVING, ORDER BY, OFFSET, LIMIT, then WITH"},
		{"cte", engine.Postgres,
			"WITH x AS (SELECT id FROM books WHERE title = @title)\nSELECT a.id FROM authors a JOIN x ON x.id = a.id WHERE a.name = @name LIMIT @lim OFFSET @off",
			"WITH x AS (SELECT id FROM books WHERE title = $4)\nSELECT a.id FROM authors a JOIN x ON x.id = a.id WHERE a.name = $1 LIMIT $3 OFFSET $2",
			"the CTE's parameters come last"},
		{"union", engine.Postgres,
			"SELECT id FROM authors WHERE name = @a UNION SELECT id FROM books WHERE title = @b ORDER BY 1 LIMIT @lim",
			"SELECT id FROM authors WHERE name = $2 UNION SELECT id FROM books WHERE title = $3 ORDER BY 1 LIMIT $1",
			"the LIMIT of a UNION comes before its arms"},
		{"update", engine.Postgres,
			"WITH w AS (SELECT bk.id FROM books bk WHERE bk.title = @w_title)\nUPDATE authors SET bio = @bio FROM (SELECT bf.author_id FROM books bf WHERE bf.title = @from_title) b WHERE b.author_id = authors.id AND authors.name = @name RETURNING id, @ret::text AS r",
			"WITH w AS (SELECT bk.id FROM books bk WHERE bk.title = $5)\nUPDATE authors SET bio = $1 FROM (SELECT bf.author_id FROM books bf WHERE bf.title = $3) b WHERE b.author_id = authors.id AND authors.name = $2 RETURNING id, $4::text AS r",
			"SET, WHERE, FROM, RETURNING, WITH"},
		{"insert on conflict", engine.Postgres,
			"WITH w AS (SELECT bk.id FROM books bk WHERE bk.title = @w_title)\nINSERT INTO authors (id, name) VALUES (@id, @name) ON CONFLICT (id) DO UPDATE SET bio = @new_bio WHERE authors.age = @age",
			"WITH w AS (SELECT bk.id FROM books bk WHERE bk.title = $5)\nINSERT INTO authors (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET bio = $3 WHERE authors.age = $4",
			"VALUES, ON CONFLICT, WITH"},
		{"insert select", engine.Postgres,
			"INSERT INTO authors (id, name) SELECT @id, title FROM books WHERE author_id = @aid ON CONFLICT (id) DO NOTHING RETURNING id",
			"INSERT INTO authors (id, name) SELECT $1, title FROM books WHERE author_id = $2 ON CONFLICT (id) DO NOTHING RETURNING id",
			"the SELECT of an INSERT in its own order"},
		{"delete", engine.Postgres,
			"WITH w AS (SELECT bk.id FROM books bk WHERE bk.title = @w_title)\nDELETE FROM authors USING books WHERE books.author_id = authors.id AND books.title = @title RETURNING authors.id, @ret::text AS r",
			"WITH w AS (SELECT bk.id FROM books bk WHERE bk.title = $3)\nDELETE FROM authors USING books WHERE books.author_id = authors.id AND books.title = $1 RETURNING authors.id, $2::text AS r",
			"WHERE, RETURNING, WITH"},
		{"case and narg", engine.Postgres,
			"UPDATE authors SET name = CASE WHEN @set_name::bool THEN @name::text ELSE name END, bio = sqlc.narg(bio) WHERE id = @id",
			"UPDATE authors SET name = CASE WHEN $1::bool THEN $2::text ELSE name END, bio = $3 WHERE id = $4",
			"text order within a clause"},
		{"subquery in WHERE", engine.Postgres,
			"SELECT a.id FROM authors a WHERE a.age > (SELECT max(i.age) FROM authors i WHERE i.name = @inner_name) AND a.bio = @outer_bio",
			"SELECT a.id FROM authors a WHERE a.age > (SELECT max(i.age) FROM authors i WHERE i.name = $1) AND a.bio = $2",
			"a subquery is visited where it stands"},
		{"distinct from", engine.Postgres,
			"SELECT id FROM authors WHERE name IS DISTINCT FROM @a ORDER BY @o::int",
			"SELECT id FROM authors WHERE name IS DISTINCT FROM $1 ORDER BY $2::int",
			"IS DISTINCT FROM starts no FROM clause"},
		{"mixed: names after the highest $N", engine.Postgres,
			"SELECT count(1) FROM bar WHERE id = sqlc.arg(id) AND name <> $1 LIMIT sqlc.arg('limit')",
			"SELECT count(1) FROM bar WHERE id = $2 AND name <> $1 LIMIT $3",
			"sqlc's mix_param_types CountOne: $1 stays, the names follow it"},
		{"mixed: $N out of order", engine.Postgres,
			"SELECT count(1) FROM bar WHERE id > $2 AND phone <> sqlc.arg(phone) AND name <> $1",
			"SELECT count(1) FROM bar WHERE id > $2 AND phone <> $3 AND name <> $1",
			"sqlc's mix_param_types CountThree: the highest $N is 2"},
		{"mixed: a name fills the gap below $N", engine.Postgres,
			"UPDATE deployments SET min_replicas = $2 WHERE key = sqlc.arg('key')",
			"UPDATE deployments SET min_replicas = $2 WHERE key = $1",
			"sqlc gives a name the lowest unused number (named.ParamSet.nextArgNum); FTL's generated SetDeploymentDesiredReplicas has key = $1"},
		{"mixed: names fill gaps, then follow", engine.Postgres,
			"SELECT id FROM t WHERE a = $3 AND b = @b AND c = $1 AND d = @d",
			"SELECT id FROM t WHERE a = $3 AND b = $2 AND c = $1 AND d = $4",
			"$2 is free, then the names go after $3"},
		{"mixed on mysql: text order", engine.MySQL,
			"SELECT count(1) FROM bar WHERE id > ? AND phone <> sqlc.arg(phone) AND name <> ?",
			"SELECT count(1) FROM bar WHERE id > $1 AND phone <> $2 AND name <> $3",
			"sqlc's mix_param_types CountThree on mysql: CountThreeParams{ID, Phone, Name}"},
		{"mysql user variable", engine.MySQL,
			"SELECT u.id FROM users u WHERE u.user_id != @user_id AND u.name = sqlc.arg(name)",
			"SELECT u.id FROM users u WHERE u.user_id != @user_id AND u.name = $1",
			"on mysql @x is a user variable, as sqlc leaves it (its join_left/mysql); sqlc.arg is the named parameter there"},
		{"mysql cte in text order", engine.MySQL,
			"WITH x AS (SELECT bk.id FROM books bk WHERE bk.title = sqlc.arg(title))\nSELECT a.id FROM authors a JOIN x ON x.id = a.id WHERE a.name = sqlc.arg(name) AND a.age > sqlc.arg(age)",
			"WITH x AS (SELECT bk.id FROM books bk WHERE bk.title = $1)\nSELECT a.id FROM authors a JOIN x ON x.id = a.id WHERE a.name = $2 AND a.age > $3",
			"on mysql sqlc keeps the text's order (MyCTEParams{Title, Name, Age})"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw, lerr := rewriteParams(tt.sql, tt.family, tt.family == engine.MySQL)
			if lerr != nil {
				t.Fatal(lerr.Msg)
			}
			if diff := cmp.Diff(tt.want, rw.sql); diff != "" {
				t.Errorf("(-want +got) (%s):\n%s", tt.reason, diff)
			}
		})
	}
}
