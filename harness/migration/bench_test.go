package migration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
)

// BenchmarkLoad1000 reads a directory of 1,000 migration files, popx-style, as
// large projects keep them (issue 9: reading 1,000 migrations and 500 queries
// takes under a second).
func BenchmarkLoad1000(b *testing.B) {
	dir := b.TempDir()
	for i := 1; i <= 1000; i++ {
		body := fmt.Sprintf("-- migration %d\nCREATE TABLE t%d (id bigint PRIMARY KEY, name varchar(100) NOT NULL DEFAULT 'x;y');\nCREATE INDEX t%d_name ON t%d (name);\nINSERT INTO t%d (id) VALUES (1), (2), (3);\n", i, i, i, i, i)
		name := fmt.Sprintf("%014d_step.up.sql", i)
		if i%10 == 0 {
			name = fmt.Sprintf("%014d_step.postgres.up.sql", i)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		set, err := Load(dir, Options{Family: engine.Postgres})
		if err != nil {
			b.Fatal(err)
		}
		if len(set.Steps) != 1000 {
			b.Fatalf("%d steps", len(set.Steps))
		}
	}
}
