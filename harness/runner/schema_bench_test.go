package runner_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/release/releasetest"
	"github.com/straddle-dev/straddle/harness/schema"
)

// BenchmarkSchemaSnapshot reads the catalog of a schema of 200 tables (five
// columns, a primary key, a secondary index, a foreign key and a CHECK each) and
// diffs it with the previous boundary's, as the runner does after every step:
// the cost a boundary pays for its schema diff.
func BenchmarkSchemaSnapshot(b *testing.B) {
	for _, spec := range []string{"postgres", "mariadb"} {
		b.Run(spec, func(b *testing.B) {
			db := testDB(b, spec)
			pool := open(b, db)
			stmts := []string{"CREATE TABLE t0 (id bigint PRIMARY KEY)"}
			for i := 1; i <= 200; i++ {
				stmts = append(stmts,
					fmt.Sprintf("CREATE TABLE t%d (id bigint PRIMARY KEY, ref bigint REFERENCES t0 (id), name varchar(100) NOT NULL, qty int CHECK (qty >= 0), note text)", i),
					fmt.Sprintf("CREATE INDEX t%d_name ON t%d (name)", i, i))
			}
			releasetest.Exec(b, pool, stmts...)
			d := engine.DialectOf(db.Family())
			prev, err := d.ReadSchema(b.Context(), pool)
			if err != nil {
				b.Fatal(err)
			}
			if len(prev) < 200*7 {
				b.Fatalf("read %d objects, want at least %d", len(prev), 200*7)
			}
			var total time.Duration
			for b.Loop() {
				start := time.Now()
				cur, err := d.ReadSchema(b.Context(), pool)
				if err != nil {
					b.Fatal(err)
				}
				if n := len(schema.Diff(prev, cur)); n != 0 {
					b.Fatalf("%d changes between two reads of the same schema", n)
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/boundary")
		})
	}
}
