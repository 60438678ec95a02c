package release

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/workload"
)

// TestExpandStars expands star projections against a real schema on both
// families, and checks that each expanded query prepares there.
func TestExpandStars(t *testing.T) {
	tests := []struct {
		name   string
		sql    string
		family engine.Family // "" for both
		want   string
		reason string
	}{
		{"select star", "SELECT * FROM authors WHERE id = $1", "", "SELECT id, name, bio FROM authors WHERE id = $1", "one table: its column names, as sqlc writes them"},
		{"qualified star with alias", "SELECT a.*, b.title FROM authors a JOIN books b ON b.author_id = a.id", "", "SELECT a.id, a.name, a.bio, b.title FROM authors a JOIN books b ON b.author_id = a.id", "t.* is the columns of t, qualified by its alias"},
		{"star over a join", "SELECT * FROM authors AS a LEFT JOIN books AS b ON b.author_id = a.id WHERE a.id > 0", "", "SELECT a.id, a.name, a.bio, b.id, b.author_id, b.title FROM authors AS a LEFT JOIN books AS b ON b.author_id = a.id WHERE a.id > 0", "several tables: qualified names in FROM order"},
		{"embed", "SELECT authors.*, books.title FROM authors JOIN books ON books.author_id = authors.id", "", "SELECT authors.id, authors.name, authors.bio, books.title FROM authors JOIN books ON books.author_id = authors.id", "sqlc.embed(authors) is read as authors.*"},
		{"update from returning star", "UPDATE books AS b SET title = a.name FROM authors a WHERE a.id = b.author_id RETURNING *", engine.Postgres, "UPDATE books AS b SET title = a.name FROM authors a WHERE a.id = b.author_id RETURNING b.id, b.author_id, b.title, a.id, a.name, a.bio", "UPDATE … FROM returns the target's columns and the FROM tables' (sqlc's update_from)"},
		{"returning star", "INSERT INTO authors (id, name) VALUES ($1, $2) RETURNING *", engine.Postgres, "INSERT INTO authors (id, name) VALUES ($1, $2) RETURNING id, name, bio", "RETURNING * is the target's columns"},
		{"distinct on", "SELECT DISTINCT ON (a.id) a.* FROM authors a ORDER BY a.id", engine.Postgres, "SELECT DISTINCT ON (a.id) a.id, a.name, a.bio FROM authors a ORDER BY a.id", "a star after DISTINCT ON (…) is a projection (sqlc expands it)"},
		{"count star", "SELECT count(*) FROM authors", "", "SELECT count(*) FROM authors", "count(*) is no projection"},
		{"multiplication", "SELECT id * 2 FROM authors", "", "SELECT id * 2 FROM authors", "a * b is no projection"},
		{"subquery", "SELECT * FROM (SELECT id FROM authors) x", "", "SELECT * FROM (SELECT id FROM authors) x", "a star over a subquery is left alone"},
		{"star in a subquery", "SELECT id FROM books WHERE author_id IN (SELECT id FROM (SELECT * FROM authors) s)", "", "SELECT id FROM books WHERE author_id IN (SELECT id FROM (SELECT id, name, bio FROM authors) s)", "each SELECT has its own FROM"},
		{"using join", "SELECT * FROM authors JOIN books USING (id)", "", "SELECT * FROM authors JOIN books USING (id)", "USING merges columns: left alone"},
		{"unknown table", "SELECT * FROM nope", "", "SELECT * FROM nope", "the server reports a missing table when the query runs"},
		{"reserved words", "SELECT * FROM events", engine.Postgres, `SELECT id, "order", trigger FROM events`, "reserved words quoted as sqlc quotes them (PostgreSQL: order is reserved, trigger is not)"},
		{"reserved words", "SELECT * FROM events", engine.MySQL, "SELECT id, `order`, `trigger` FROM events", "reserved words quoted as sqlc quotes them (unkey's deployments.trigger)"},
	}
	for _, f := range []engine.Family{engine.Postgres, engine.MySQL} {
		t.Run(string(f), func(t *testing.T) {
			db := openDB(t, testDatabase(t, f))
			ctx := context.Background()
			events := "CREATE TABLE events (id INT PRIMARY KEY, " + engine.QuoteIdent(f, "order") + " INT, " + engine.QuoteIdent(f, "trigger") + " VARCHAR(10))"
			for _, ddl := range []string{`CREATE TABLE authors (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, bio TEXT)`, `CREATE TABLE books (id INT PRIMARY KEY, author_id INT NOT NULL, title VARCHAR(100) NOT NULL)`, events} {
				if _, err := db.ExecContext(ctx, ddl); err != nil {
					t.Fatal(err)
				}
			}
			for _, tt := range tests {
				if tt.family != "" && tt.family != f {
					continue
				}
				t.Run(tt.name, func(t *testing.T) {
					q := workload.Query{Name: "Q", SQL: tt.sql}
					got, err := ExpandStars(ctx, db, f, []workload.Query{q})
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(tt.want, got[0].SQL); diff != "" {
						t.Errorf("(-want +got) (%s):\n%s", tt.reason, diff)
					}
					if tt.name == "unknown table" {
						return
					}
					text, _, err := got[0].For(f)
					if err != nil {
						t.Fatal(err)
					}
					stmt, err := db.PrepareContext(ctx, text)
					if err != nil {
						t.Fatalf("expanded query does not prepare on %s: %v", f, err)
					}
					stmt.Close()
				})
			}
		})
	}
}
