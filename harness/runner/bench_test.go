package runner_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/release"
	"github.com/straddle-dev/straddle/harness/release/releasetest"
	"github.com/straddle-dev/straddle/harness/runner"
	"github.com/straddle-dev/straddle/harness/traffic"
	"github.com/straddle-dev/straddle/harness/workload"
)

// The load benchmarks compare straddle's load driver with the reference tools on
// the same server, on the same machine, in the same run: each b.Loop iteration
// runs every contender once, in turn, for benchWindow, and the metrics are medians
// of the per-iteration ratios, so that load from other processes spreads evenly.
// Run them with `make bench`; docs/load.md explains the figures.

// benchWindow is how long each contender runs per turn
// (STRADDLE_BENCH_SECONDS overrides it; whole seconds, pgbench -T takes those).
func benchWindow() time.Duration {
	if s, err := strconv.Atoi(os.Getenv("STRADDLE_BENCH_SECONDS")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return time.Second
}

// benchTurns is how many turns each contender gets per b.Loop iteration, in
// ABBA order so that neither always runs first.
const benchTurns = 4

// benchClients is the client count of every contender (pgbench -c 4 -j 2).
const benchClients = 4

// discard is a sink that drops every event: recording off.
type discard struct{}

func (discard) Record(observe.Event) {}

// run is one turn of a contender: its throughput, the CPU time it used per
// execution, in µs (client side only: the server's share is the same for both),
// and, for straddle, its heap allocations per execution (the one figure a busy
// machine does not disturb).
type run struct{ tps, cpuUS, allocs float64 }

// mallocs is the number of heap allocations this process has made.
func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// drive runs rel with benchClients clients for d.
func drive(b *testing.B, rel traffic.Workload, d time.Duration, sink observe.Sink) run {
	b.Helper()
	m := mallocs()
	start, cpu := time.Now(), cpuTime()
	n, err := runner.Drive(context.Background(), rel, runner.Load{Clients: benchClients, Duration: d},
		traffic.Where{Engine: "bench", Boundary: during, Window: plan.After}, sink)
	if err != nil {
		b.Fatal(err)
	}
	used, secs := cpuTime()-cpu, time.Since(start).Seconds()
	return run{float64(n) / secs, float64(used.Microseconds()) / float64(max(n, 1)), float64(mallocs()-m) / float64(max(n, 1))}
}

// duel runs a and z in turns (ABBA) and returns every turn of each, in order.
func duel(a, z func() run) (as, zs []run) {
	rs := rounds(a, z)
	return rs[0], rs[1]
}

// rounds runs every contender benchTurns times, in turns whose order reverses
// each time (ABC CBA …), and returns every turn of each, in order.
func rounds(fs ...func() run) [][]run {
	out := make([][]run, len(fs))
	for k := range benchTurns {
		for j := range fs {
			if k%2 == 1 {
				j = len(fs) - 1 - j
			}
			out[j] = append(out[j], fs[j]())
		}
	}
	return out
}

// report adds the medians of a duel to b's metrics: each side's throughput and
// CPU per execution, and the median of the per-turn throughput ratios a/z.
func report(b *testing.B, aName, zName, ratioName string, as, zs []run) {
	var at, zt, ac, zc, r []float64
	for i := range as {
		at, zt = append(at, as[i].tps), append(zt, zs[i].tps)
		ac, zc = append(ac, as[i].cpuUS), append(zc, zs[i].cpuUS)
		r = append(r, as[i].tps/zs[i].tps)
	}
	b.ReportMetric(median(at), aName+"-tps")
	b.ReportMetric(median(zt), zName+"-tps")
	b.ReportMetric(median(ac), aName+"-cpu-µs/op")
	b.ReportMetric(median(zc), zName+"-cpu-µs/op")
	b.ReportMetric(median(r), ratioName)
	var aa []float64
	for i := range as {
		aa = append(aa, as[i].allocs)
	}
	if median(aa) > 0 {
		b.ReportMetric(median(aa), aName+"-allocs/op")
	}
	b.Logf("%s/%s = %.3f (turns: %.3f)", aName, zName, median(r), r)
}

// tool runs a reference tool and returns its output and the CPU time it used;
// the password goes in env, never on the command line.
func tool(b *testing.B, env []string, name string, args ...string) (string, time.Duration) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v\n%s", name, err, out.String())
	}
	return out.String(), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func needTool(b *testing.B, name string) string {
	b.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		b.Skipf("%s not installed", name)
	}
	return p
}

// dsnParts splits a database URL into what command-line clients take.
func dsnParts(b *testing.B, db engine.Database) (host, port, user, password, name string) {
	b.Helper()
	u, err := url.Parse(db.DSN())
	if err != nil {
		b.Fatal(err)
	}
	pw, _ := u.User.Password()
	return u.Hostname(), u.Port(), u.User.Username(), pw, db.Name()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

var (
	pgbenchTPS = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	pgbenchTx  = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)
)

// releaseOn parses a query file into a release on pool.
func releaseOn(b *testing.B, pool *sql.DB, f engine.Family, src string) traffic.Workload {
	b.Helper()
	qs, err := workload.Parse("bench.sql", []byte(src))
	if err != nil {
		b.Fatal(err)
	}
	r, err := release.NewRunner(&workload.Workload{Release: plan.Old, Queries: qs}, pool, f, release.WithTags())
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// openBinding returns a pool on db whose driver binds arguments as bind, closed
// when the benchmark ends.
func openBinding(b *testing.B, db engine.Database, bind engine.Binding) *sql.DB {
	b.Helper()
	bo, ok := db.(engine.BindingOpener)
	if !ok {
		b.Skipf("%T cannot open a pool binding %s", db, bind)
	}
	pool, err := bo.OpenBinding(context.Background(), bind)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pool.Close() })
	return pool
}

// pgbenchSelect is pgbench -S's query (select-only: one account by primary key),
// the account number taken from the execution number instead of random().
const pgbenchSelect = "-- name: GetBalance :one\n-- args: {{n}}\nSELECT abalance FROM pgbench_accounts WHERE aid = $1::int % 100000 + 1;\n"

// BenchmarkLoadVsPgbench: straddle's load driver running pgbench -S's query with
// 4 clients against pgbench -S -c 4 -j 2 on the same server, in turns.
//
// pgbench -S uses the simple protocol by default. straddle runs queries the way
// applications do, through pgx's statement cache (extended protocol, prepared
// once per connection), so the like-for-like comparison is with pgbench -M
// prepared: ratio-prepared. ratio-simple compares a straddle pool in pgx's
// simple-protocol mode (default_query_exec_mode=simple_protocol) with default
// pgbench -S.
func BenchmarkLoadVsPgbench(b *testing.B) {
	pgbench := needTool(b, "pgbench")
	db := testDB(b, "postgres")
	host, port, user, pw, name := dsnParts(b, db)
	env := []string{"PGPASSWORD=" + pw}
	conn := []string{"-h", host, "-p", port, "-U", user}
	tool(b, env, pgbench, append(append([]string{"-i", "-q", "-s", "1"}, conn...), name)...)
	prepared := releaseOn(b, open(b, db), engine.Postgres, pgbenchSelect)
	simple := releaseOn(b, openBinding(b, db, engine.BindInterpolated), engine.Postgres, pgbenchSelect)
	d := benchWindow()
	pgb := func(mode string) func() run {
		return func() run {
			out, cpu := tool(b, env, pgbench, append(append([]string{"-S", "-c", "4", "-j", "2",
				"-T", strconv.Itoa(int(d / time.Second)), "-M", mode}, conn...), name)...)
			m, t := pgbenchTPS.FindStringSubmatch(out), pgbenchTx.FindStringSubmatch(out)
			if m == nil || t == nil {
				b.Fatalf("no tps in pgbench output:\n%s", out)
			}
			tps, _ := strconv.ParseFloat(m[1], 64)
			n, _ := strconv.ParseFloat(t[1], 64)
			return run{tps: tps, cpuUS: float64(cpu.Microseconds()) / max(n, 1)}
		}
	}
	var sp, pp, ss, ps []run
	for b.Loop() {
		a, z := duel(func() run { return drive(b, prepared, d, observe.NewRecorder()) }, pgb("prepared"))
		sp, pp = append(sp, a...), append(pp, z...)
		a, z = duel(func() run { return drive(b, simple, d, observe.NewRecorder()) }, pgb("simple"))
		ss, ps = append(ss, a...), append(ps, z...)
	}
	report(b, "straddle", "pgbench-M-prepared", "ratio-prepared", sp, pp)
	report(b, "straddle-simple", "pgbench-M-simple", "ratio-simple", ss, ps)
}

var slapSeconds = regexp.MustCompile(`Average number of seconds to run all queries: ([0-9.]+) seconds`)

// slapKeys is how many distinct keys the bound-argument contenders read.
const slapKeys = 100000

// BenchmarkLoadVsMariadbSlap: straddle's load driver running a single-row
// primary-key SELECT with 4 clients against mariadb-slap --concurrency=4, in
// turns, three ways:
//
//   - ratio: the same fixed query on both sides, over the text protocol (a query
//     without arguments goes as is through go-sql-driver/mysql);
//   - ratio-prepared: straddle with a bound argument (a different key each time)
//     as a statement prepared once per connection (engine.BindPrepared: one
//     COM_STMT_EXECUTE per execution), against slap running a file of
//     slapQueries queries with distinct literal keys — slap has no bound
//     arguments; that is the closest it comes (text protocol, parsed each time);
//   - ratio-interpolated: straddle with a bound argument interpolated into the
//     text on the client (engine.BindInterpolated, go-sql-driver/mysql's
//     interpolateParams), against the same slap run: the same bytes on the wire.
func BenchmarkLoadVsMariadbSlap(b *testing.B) {
	slap := needTool(b, "mariadb-slap")
	db := testDB(b, "mariadb")
	pool := open(b, db)
	releasetest.Exec(b, pool, "CREATE TABLE t (id int PRIMARY KEY, v int)",
		fmt.Sprintf("INSERT INTO t SELECT seq, seq FROM seq_1_to_%d", slapKeys))
	const fixed = "SELECT v FROM t WHERE id = 42"
	const bound = "-- name: Get :one\n-- args: {{n}}\nSELECT v FROM t WHERE id = $1 % 100000 + 1;\n"
	text := releaseOn(b, pool, engine.MySQL, "-- name: Get :one\n"+fixed+";\n")
	prepared := releaseOn(b, pool, engine.MySQL, bound)
	interpolated := releaseOn(b, openBinding(b, db, engine.BindInterpolated), engine.MySQL, bound)
	var keyed bytes.Buffer
	for k := range slapQueries {
		fmt.Fprintf(&keyed, "SELECT v FROM t WHERE id = %d;\n", (k*7919)%slapKeys+1)
	}
	keyedFile := filepath.Join(b.TempDir(), "keyed.sql")
	if err := os.WriteFile(keyedFile, keyed.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	host, port, user, pw, name := dsnParts(b, db)
	d := benchWindow()
	slapRun := func(query string, extra ...string) func() run {
		queries := 20000 // calibrated at each run so that a slap run lasts about d
		return func() run {
			args := append([]string{"-h", host, "-P", port, "-u", user,
				"--create-schema=" + name, "--no-drop", "--query=" + query, "--concurrency=4", "--iterations=1",
				"--number-of-queries=" + strconv.Itoa(queries)}, extra...)
			out, cpu := tool(b, []string{"MYSQL_PWD=" + pw}, slap, args...)
			m := slapSeconds.FindStringSubmatch(out)
			if m == nil {
				b.Fatalf("no timing in mariadb-slap output:\n%s", out)
			}
			secs, _ := strconv.ParseFloat(m[1], 64)
			r := run{tps: float64(queries) / secs, cpuUS: float64(cpu.Microseconds()) / float64(queries)}
			queries = max(int(r.tps*d.Seconds()), 1000)
			return r
		}
	}
	slapFixed, slapKeyed := slapRun(fixed), slapRun(keyedFile, "--delimiter=;")
	slapFixed()
	slapKeyed()
	var st, sf, sp, si, sk []run
	for b.Loop() {
		a, z := duel(func() run { return drive(b, text, d, observe.NewRecorder()) }, slapFixed)
		st, sf = append(st, a...), append(sf, z...)
		rs := rounds(func() run { return drive(b, prepared, d, observe.NewRecorder()) },
			func() run { return drive(b, interpolated, d, observe.NewRecorder()) }, slapKeyed)
		sp, si, sk = append(sp, rs[0]...), append(si, rs[1]...), append(sk, rs[2]...)
	}
	report(b, "straddle", "slap", "ratio", st, sf)
	report(b, "straddle-prepared", "slap-keyed", "ratio-prepared", sp, sk)
	report(b, "straddle-interpolated", "slap-keyed", "ratio-interpolated", si, sk)
}

// slapQueries is how many distinct queries slap's bound-argument stand-in cycles
// through.
const slapQueries = 10000

// BenchmarkRecordingOverhead: the same load with observation recording on (the
// recorder: per-cell histograms) and off (a sink that drops events), in turns.
// overhead-% is how much lower throughput is with recording on (median of the
// per-turn figures; negative is noise).
func BenchmarkRecordingOverhead(b *testing.B) {
	for _, spec := range []string{"postgres", "mariadb"} {
		b.Run(spec, func(b *testing.B) {
			db := testDB(b, spec)
			pool := open(b, db)
			releasetest.Exec(b, pool, "CREATE TABLE t (id int PRIMARY KEY, v int)")
			for i := 0; i < 100; i++ {
				releasetest.Exec(b, pool, fmt.Sprintf("INSERT INTO t VALUES (%d, %d)", i+1, i))
			}
			rel := releaseOn(b, pool, db.Family(), "-- name: Get :one\n-- args: {{n}}\nSELECT v FROM t WHERE id = $1 % 100 + 1;\n")
			d := benchWindow()
			var on, off []run
			for b.Loop() {
				a, z := duel(func() run { return drive(b, rel, d, observe.NewRecorder()) },
					func() run { return drive(b, rel, d, discard{}) })
				on, off = append(on, a...), append(off, z...)
			}
			var over []float64
			for i := range on {
				over = append(over, 100*(off[i].tps-on[i].tps)/off[i].tps)
			}
			report(b, "recording-on", "recording-off", "on/off", on, off)
			b.ReportMetric(median(over), "overhead-%")
		})
	}
}

// BenchmarkDriveBindings: straddle alone, a single-row primary-key SELECT with
// a bound argument, 4 clients, on each engine and binding — throughput, client
// CPU and heap allocations per execution. The one to profile the load driver
// with (go test -bench DriveBindings -cpuprofile, go tool pprof -top): no
// reference tool shares the turns.
func BenchmarkDriveBindings(b *testing.B) {
	for _, spec := range []string{"postgres", "mariadb"} {
		for _, bind := range engine.Bindings {
			b.Run(spec+"/"+string(bind), func(b *testing.B) {
				db := testDB(b, spec)
				pool := open(b, db)
				releasetest.Exec(b, pool, "CREATE TABLE t (id int PRIMARY KEY, v int)")
				if db.Family() == engine.Postgres {
					releasetest.Exec(b, pool, "INSERT INTO t SELECT g, g FROM generate_series(1, 100000) g")
				} else {
					releasetest.Exec(b, pool, "INSERT INTO t SELECT seq, seq FROM seq_1_to_100000")
				}
				p := pool
				if bind != engine.BindPrepared {
					p = openBinding(b, db, bind)
				}
				qs, err := workload.Parse("bench.sql", []byte("-- name: Get :one\n-- args: {{n}}\nSELECT v FROM t WHERE id = $1 % 100000 + 1;\n"))
				if err != nil {
					b.Fatal(err)
				}
				r, err := release.NewRunner(&workload.Workload{Release: plan.Old, Queries: qs, Binding: bind}, p, db.Family(), release.WithTags())
				if err != nil {
					b.Fatal(err)
				}
				rel := r
				var rs []run
				for b.Loop() {
					rs = append(rs, drive(b, rel, benchWindow(), observe.NewRecorder()))
				}
				var tps, cpu, allocs []float64
				for _, r := range rs {
					tps, cpu, allocs = append(tps, r.tps), append(cpu, r.cpuUS), append(allocs, r.allocs)
				}
				b.ReportMetric(median(tps), "tps")
				b.ReportMetric(median(cpu), "cpu-µs/op")
				b.ReportMetric(median(allocs), "mallocs/op")
			})
		}
	}
}
