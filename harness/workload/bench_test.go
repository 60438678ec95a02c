package workload

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkLoad500 reads 500 sqlc queries in 10 files, with schema before them
// and every parameter form.
func BenchmarkLoad500(b *testing.B) {
	dir := b.TempDir()
	for f := range 10 {
		var s strings.Builder
		s.WriteString("CREATE TABLE authors (id bigint PRIMARY KEY, name text, bio text);\n\n")
		for i := range 50 {
			n := f*50 + i
			fmt.Fprintf(&s, "-- name: Q%d :many\n-- args: 'a', (1, 2, 3), 'b', %d\nSELECT id, name FROM authors\nWHERE name = @name AND id IN (sqlc.slice(ids)) AND bio <> sqlc.arg('bio')\nORDER BY id LIMIT sqlc.narg(lim);\n\n", n, n)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("q%02d.sql", f)), []byte(s.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		qs, err := Load(context.Background(), dir, "")
		if err != nil {
			b.Fatal(err)
		}
		if len(qs) != 500 {
			b.Fatalf("%d queries", len(qs))
		}
	}
}
