package docker

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/straddle-dev/straddle/harness/engine"
)

// benchFamilies are the specs the benchmarks start; their images come from the
// STRADDLE_IMAGE_* variables (TestMain points them at the local images).
var benchFamilies = []string{"postgres", "mariadb"}

// BenchmarkDockerStart compares Provider.Start (from the call to a server that
// answers a query) with the floor: a plain `docker run -d -p 127.0.0.1::PORT` of the
// same image, then a database/sql ping retried every 10ms until it succeeds. It
// reports both in milliseconds and their ratio (target: at most 1.5). Start puts the
// data directory on tmpfs, which plain docker does not, so it also reports plain
// docker with the same tmpfs (plain-tmpfs-ms) and overhead, Start's time over that:
// what testcontainers and the readiness wait cost. Run it with a fixed count, e.g.
// -benchtime=5x: every iteration starts three containers.
func BenchmarkDockerStart(b *testing.B) {
	p := newProvider(b)
	mysql.SetLogger(log.New(io.Discard, "", 0)) // the plain ping's early EOFs
	for _, s := range benchFamilies {
		b.Run(s, func(b *testing.B) {
			ctx := context.Background()
			spec := p.Resolve(engine.MustParseSpec(s))
			var start, plain, plainTmpfs time.Duration
			tmpfs := []string{"--tmpfs", flavors[spec.Flavor].data}
			for range b.N {
				t0 := time.Now()
				srv, err := p.Start(ctx, spec)
				if err != nil {
					b.Fatal(err)
				}
				start += time.Since(t0)
				b.StopTimer()
				if err := srv.Stop(ctx); err != nil {
					b.Fatal(err)
				}
				d, err := plainDockerRun(ctx, spec)
				if err != nil {
					b.Fatal(err)
				}
				plain += d
				d, err = plainDockerRun(ctx, spec, tmpfs...)
				if err != nil {
					b.Fatal(err)
				}
				plainTmpfs += d
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(start.Milliseconds())/n, "start-ms")
			b.ReportMetric(float64(plain.Milliseconds())/n, "plain-docker-ms")
			b.ReportMetric(float64(plainTmpfs.Milliseconds())/n, "plain-tmpfs-ms")
			b.ReportMetric(float64(start)/float64(plain), "ratio")
			b.ReportMetric(float64(start)/float64(plainTmpfs), "overhead")
		})
	}
}

// plainDockerRun times `docker run [extra] spec.Image` until a ping succeeds, then
// removes the container.
func plainDockerRun(ctx context.Context, spec engine.Spec, extra ...string) (time.Duration, error) {
	f := flavors[spec.Flavor]
	port, _, _ := strings.Cut(f.port, "/")
	env := map[engine.Family][]string{
		engine.Postgres: {"-e", "POSTGRES_PASSWORD=bench"},
		engine.MySQL:    {"-e", "MYSQL_ROOT_PASSWORD=bench", "-e", "MARIADB_ROOT_PASSWORD=bench"},
	}[spec.Family()]
	t0 := time.Now()
	args := append([]string{"run", "-d", "--label", engine.Label + "=bench-plain", "-p", "127.0.0.1::" + port}, env...)
	args = append(args, extra...)
	out, err := exec.CommandContext(ctx, "docker", append(args, spec.Image)...).Output()
	if err != nil {
		return 0, fmt.Errorf("docker run: %w", err)
	}
	id := strings.TrimSpace(string(out))
	defer exec.Command("docker", "rm", "-f", "-v", id).Run()
	out, err = exec.CommandContext(ctx, "docker", "port", id, port).Output()
	if err != nil {
		return 0, fmt.Errorf("docker port: %w", err)
	}
	addr, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	var driver, dsn string
	if spec.Family() == engine.Postgres {
		driver, dsn = "pgx", "postgres://postgres:bench@"+addr+"/postgres?sslmode=disable"
	} else {
		driver, dsn = "mysql", "root:bench@tcp("+addr+")/"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		if err := db.PingContext(ctx); err == nil {
			return time.Since(t0), nil
		} else if ctx.Err() != nil {
			return 0, fmt.Errorf("ping %s: %w", spec.Image, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkCreateDatabase times creating and dropping one scratch database on a
// running server, per family.
func BenchmarkCreateDatabase(b *testing.B) {
	p := newProvider(b)
	for _, s := range benchFamilies {
		b.Run(s, func(b *testing.B) {
			ctx := context.Background()
			srv, err := p.Start(ctx, engine.MustParseSpec(s))
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Stop(ctx)
			b.ResetTimer()
			t0 := time.Now()
			for range b.N {
				db, err := srv.CreateDatabase(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := db.Drop(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer() // not the deferred Stop
			b.ReportMetric(float64(time.Since(t0).Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}
