package cli

import (
	"io"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkCheckEngines runs `straddle check` of an example project on
// PostgreSQL and MariaDB with the engines one after the other (-j 1) and at once
// (-j 2), and on each engine alone, in turns within one run, each check starting
// its own servers as a user's does. It reports the wall time of each and the
// ratios: -j 2 over -j 1 (what running the engines at once saves) and -j 2 over
// the slower engine alone (1 would be perfect overlap). On a machine with fewer
// cores than busy servers the overlap is what is left after the CPU is shared.
//
//	STRADDLE_PROVIDER=local go test ./internal/cli -run '^$' -bench CheckEngines -benchtime 3x
func BenchmarkCheckEngines(b *testing.B) {
	projects, err := filepath.Abs("../../examples/projects/rename_naive")
	if err != nil {
		b.Fatal(err)
	}
	provider := envOr("STRADDLE_PROVIDER", "local")
	out := filepath.Join(b.TempDir(), "report.json")
	check := func(extra ...string) time.Duration {
		b.Helper()
		args := append([]string{"check", "--provider", provider,
			"--migrations", filepath.Join(projects, "migrations"),
			"--old", filepath.Join(projects, "old.sql"), "--new", filepath.Join(projects, "new.sql"),
			"--format", "json", "--out", out}, extra...)
		start := time.Now()
		err := Run(b.Context(), args, io.Discard, io.Discard)
		took := time.Since(start)
		if code := ExitCode(err); code != ExitIncompatible { // rename_naive breaks the old release
			b.Fatalf("check %v: exit %d, want %d: %v", extra, code, ExitIncompatible, err)
		}
		return took
	}
	var serial, parallel, pg, maria time.Duration
	for b.Loop() {
		serial += check("--engine", "postgres", "--engine", "mariadb", "-j", "1")
		parallel += check("--engine", "postgres", "--engine", "mariadb", "-j", "2")
		pg += check("--engine", "postgres")
		maria += check("--engine", "mariadb")
	}
	n := float64(b.N)
	b.ReportMetric(serial.Seconds()/n, "s/check-j1")
	b.ReportMetric(parallel.Seconds()/n, "s/check-j2")
	b.ReportMetric(pg.Seconds()/n, "s/postgres")
	b.ReportMetric(maria.Seconds()/n, "s/mariadb")
	b.ReportMetric(parallel.Seconds()/serial.Seconds(), "j2/j1")
	b.ReportMetric(parallel.Seconds()/max(pg, maria).Seconds(), "j2/slower")
}
