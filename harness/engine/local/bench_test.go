package local_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/local"
	"github.com/straddle-dev/straddle/harness/engine/scratch"
)

var benchSpecs = []string{"postgres", "mariadb"}

// BenchmarkLocalStart measures start-to-ready: temp dir, data directory (copied
// from the template cache: ms/start; initialized from scratch: ms/start-nocache),
// server start, first answered query. Each iteration starts both ways, in turn, so
// that load from other processes spreads evenly; metrics are medians. Stop is not
// timed.
func BenchmarkLocalStart(b *testing.B) {
	for _, s := range benchSpecs {
		b.Run(s, func(b *testing.B) {
			spec := engine.MustParseSpec(s)
			cached := local.New(local.Config{CacheDir: b.TempDir()})
			fresh := local.New(local.Config{NoCache: true})
			skipUnlessInstalled(b, cached, spec)
			ctx := context.Background()
			// Fill the cache first: a cold cache costs one initialization, once.
			if srv, err := cached.Start(ctx, spec); err != nil {
				b.Fatal(err)
			} else if err := srv.Stop(ctx); err != nil {
				b.Fatal(err)
			}
			var took [2][]time.Duration
			for b.Loop() {
				for w, p := range []*local.Provider{cached, fresh} {
					start := time.Now()
					srv, err := p.Start(ctx, spec)
					if err != nil {
						b.Fatal(err)
					}
					took[w] = append(took[w], time.Since(start))
					b.StopTimer()
					if err := srv.Stop(ctx); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			}
			b.ReportMetric(median(took[0]), "ms/start")
			b.ReportMetric(median(took[1]), "ms/start-nocache")
		})
	}
}

// BenchmarkCreateDatabase measures what a scenario pays for a fresh scratch
// database: CreateDatabase, then Drop.
func BenchmarkCreateDatabase(b *testing.B) {
	for _, s := range benchSpecs {
		b.Run(s, func(b *testing.B) {
			srv := startBench(b, s)
			ctx := context.Background()
			var create, drop time.Duration
			for b.Loop() {
				t0 := time.Now()
				db, err := srv.CreateDatabase(ctx)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := db.Drop(ctx); err != nil {
					b.Fatal(err)
				}
				create, drop = create+t1.Sub(t0), drop+time.Since(t1)
			}
			b.ReportMetric(ms(create)/float64(b.N), "ms/create")
			b.ReportMetric(ms(drop)/float64(b.N), "ms/drop")
		})
	}
}

// BenchmarkPostgresCreateStrategy compares the ways to clone a fresh database on
// PostgreSQL 15+, with the local provider's settings (fsync off): the evidence for
// scratch's choice of template and strategy. Each iteration tries every way once,
// in turn, so that load from other processes spreads evenly; the metrics are medians.
func BenchmarkPostgresCreateStrategy(b *testing.B) {
	srv := startBench(b, "postgres")
	admin := srv.(*scratch.Server).Admin()
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE straddle_bench_template TEMPLATE template0`); err != nil {
		b.Fatal(err)
	}
	ways := []struct{ name, clause string }{
		{"template0", "TEMPLATE template0"},
		{"template1", "TEMPLATE template1"},
		{"empty", "TEMPLATE straddle_bench_template"},
		{"template0-filecopy", "TEMPLATE template0 STRATEGY FILE_COPY"},
		{"template1-filecopy", "TEMPLATE template1 STRATEGY FILE_COPY"},
		{"empty-filecopy", "TEMPLATE straddle_bench_template STRATEGY FILE_COPY"},
	}
	took := make([][]time.Duration, len(ways))
	n := 0
	for b.Loop() {
		for w, way := range ways {
			name := fmt.Sprintf("straddle_bench_%d", n)
			n++
			t0 := time.Now()
			if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" "+way.clause); err != nil {
				b.Fatal(err)
			}
			took[w] = append(took[w], time.Since(t0))
			if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
				b.Fatal(err)
			}
		}
	}
	for w, way := range ways {
		b.ReportMetric(median(took[w]), "ms/create-"+way.name)
	}
}

func startBench(b *testing.B, s string) engine.Server {
	b.Helper()
	p := local.New(local.Config{})
	spec := engine.MustParseSpec(s)
	skipUnlessInstalled(b, p, spec)
	srv, err := p.Start(context.Background(), spec)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := srv.Stop(context.Background()); err != nil {
			b.Error(err)
		}
	})
	return srv
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(ds []time.Duration) float64 {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ms(ds[len(ds)/2])
}
