package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/local"
	"github.com/straddle-dev/straddle/harness/engine/scratch"
	"gotest.tools/v3/assert"
)

// interruptProject is a small upgrade that keeps a run busy for a few seconds in
// every phase: engine start, baseline, two steps, probes, the report.
var interruptProject = map[string]string{
	"migrations/postgres/0001_base.sql":  "-- straddle:phase baseline\nCREATE TABLE t (id INT PRIMARY KEY, n INT);\nINSERT INTO t SELECT g, g FROM generate_series(1, 2000) g;\n",
	"migrations/postgres/0002_add.sql":   "-- straddle:phase expand\nALTER TABLE t ADD COLUMN m INT;\nSELECT pg_sleep(1);\n",
	"migrations/postgres/0003_index.sql": "-- straddle:phase expand\nCREATE INDEX t_n ON t (n);\n",
	"migrations/mysql/0001_base.sql":     "-- straddle:phase baseline\nCREATE TABLE t (id INT PRIMARY KEY, n INT);\nINSERT INTO t (id, n) VALUES (1, 1), (2, 2), (3, 3);\n",
	"migrations/mysql/0002_add.sql":      "-- straddle:phase expand\nALTER TABLE t ADD COLUMN m INT;\nDO SLEEP(1);\n",
	"migrations/mysql/0003_index.sql":    "-- straddle:phase expand\nCREATE INDEX t_n ON t (n);\n",
	"old.sql":                            "-- name: Count :one\nSELECT count(*) FROM t;\n\n-- name: One :one\nSELECT n FROM t WHERE id = 1;\n",
	"new.sql":                            "-- name: Count :one\nSELECT count(*) FROM t;\n\n-- name: WithM :many\nSELECT id, m FROM t WHERE id < 3;\n",
	"scenarios/interrupt.txtar":          "# A scenario that holds a database for a few seconds.\nsql 'CREATE TABLE t (id INT)'\nsql 'SELECT count(*) FROM t'\nexec sleep 3\nsql 'SELECT 1'\n",
}

// interruptCase is one interrupted run: where, which command, after how long, and
// with which signal (SIGINT as Ctrl-C; SIGKILL, then `straddle engines prune`).
type interruptCase struct {
	provider, engine, command string
	after                     time.Duration
	signal                    syscall.Signal
}

func (c interruptCase) String() string {
	return fmt.Sprintf("%s/%s/%s/%s@%v", c.provider, c.engine, c.command, map[syscall.Signal]string{syscall.SIGINT: "INT", syscall.SIGKILL: "KILL"}[c.signal], c.after.Round(time.Millisecond))
}

// TestInterruptLeavesNothing interrupts `straddle check` and `straddle run` at random
// moments — docker, local and dsn, PostgreSQL and MariaDB — with SIGINT (Ctrl-C),
// and with SIGKILL followed by `straddle engines prune` (with --dsn for the existing
// server), and asserts that nothing is left: no container, no process, no temp
// dir, no scratch database. STRADDLE_INTERRUPT_RUNS sets the number of SIGINT runs
// (default 20; the SIGKILL runs are a quarter of them, at least 5);
// STRADDLE_INTERRUPT_SEED repeats a sequence of moments.
func TestInterruptLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and interrupts database servers")
	}
	bin := buildStraddle(t)
	proj := writeTree(t, interruptProject)

	runs := 20
	if n, err := strconv.Atoi(os.Getenv("STRADDLE_INTERRUPT_RUNS")); err == nil && n > 0 {
		runs = n
	}
	seed := uint64(time.Now().UnixNano())
	if n, err := strconv.ParseUint(os.Getenv("STRADDLE_INTERRUPT_SEED"), 10, 64); err == nil {
		seed = n
	}
	t.Logf("STRADDLE_INTERRUPT_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))

	// The existing servers of the dsn provider: the test's own, started locally.
	admins := map[string]string{}
	for _, eng := range []string{"postgres", "mariadb"} {
		admins[eng] = existingServer(t, eng)
	}
	providers := []string{"local", "dsn"}
	if exec.Command("docker", "info").Run() == nil {
		providers = append(providers, "docker")
	} else {
		t.Log("docker daemon not reachable: docker cases left out (make deps starts it)")
	}

	var cases []interruptCase
	kills := max(5, runs/4)
	for i := range runs + kills {
		c := interruptCase{
			provider: providers[i%len(providers)],
			engine:   []string{"postgres", "mariadb"}[(i/len(providers))%2],
			command:  []string{"check", "run"}[(i/(2*len(providers)))%2],
			signal:   syscall.SIGINT,
		}
		if i >= runs {
			c.signal = syscall.SIGKILL
		}
		// A moment anywhere in a run: engine start (docker takes longer), baseline,
		// steps, probes, the report.
		span := 4 * time.Second
		if c.provider == "docker" {
			span = 12 * time.Second
		}
		c.after = time.Duration(rng.Int64N(int64(span)))
		cases = append(cases, c)
	}
	var exits []time.Duration
	for i, c := range cases {
		t.Run(fmt.Sprintf("%02d/%s", i, c), func(t *testing.T) {
			if took, ok := interruptOnce(t, bin, proj, admins, c); ok {
				exits = append(exits, took)
			}
		})
	}
	if len(exits) > 0 {
		slices.Sort(exits)
		t.Logf("SIGINT to exit, over %d interrupted runs: median %v, max %v", len(exits), exits[len(exits)/2].Round(time.Millisecond), exits[len(exits)-1].Round(time.Millisecond))
	}
}

// interruptOnce runs case c; took is the time from SIGINT to exit, ok false when
// the run had already ended or was killed.
func interruptOnce(t *testing.T, bin, proj string, admins map[string]string, c interruptCase) (took time.Duration, ok bool) {
	tmp, err := os.MkdirTemp("", "interrupt-test-")
	assert.NilError(t, err)
	assert.NilError(t, os.Chmod(tmp, 0o755))
	t.Cleanup(func() { os.RemoveAll(tmp) })

	args := []string{c.command, "--provider", c.provider, "--engine", c.engine}
	if c.provider == "dsn" {
		args = append(args, "--dsn", admins[c.engine])
	}
	if c.command == "check" {
		args = append(args, "--migrations", filepath.Join(proj, "migrations/{family}"),
			"--old", filepath.Join(proj, "old.sql"), "--new", filepath.Join(proj, "new.sql"),
			"--format", "json", "--out", filepath.Join(tmp, "report.json"),
			// 0002's lock is held for its 1s sleep: a query queued behind it
			// waits about the stall threshold itself, and every core busy tips
			// it over; the monitor still runs, the verdict no longer depends on it.
			"--max-stall", "5s")
	} else {
		args = append(args, filepath.Join(proj, "scenarios"))
	}
	env := runEnv(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 10 * time.Second
	assert.NilError(t, cmd.Start())
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var waitErr error
	select {
	case waitErr = <-exited:
		t.Logf("ended before the signal (%v): nothing to interrupt", waitErr)
	case <-time.After(c.after):
		sent := time.Now()
		assert.NilError(t, cmd.Process.Signal(c.signal))
		waitErr = <-exited
		took = time.Since(sent)
		ok = c.signal == syscall.SIGINT
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) {
			t.Logf("exit %d %v after the signal", ee.ExitCode(), took.Round(time.Millisecond))
		}
		if c.signal == syscall.SIGINT {
			// Interrupted: no verdict (exit 1 would be one), unless it had just
			// finished.
			// check with --out says its verdict in one line: "straddle:
			// incompatible (…); json report written to …".
			finished := strings.Contains(out.String(), "verdict") || strings.Contains(out.String(), "report written to")
			assert.Assert(t, ee == nil || ee.ExitCode() != 1 || finished, "exit 1 after SIGINT without a verdict:\n%s", out.String())
		}
	}
	var left []string
	if c.signal == syscall.SIGKILL {
		// What a killed run could not clean up, prune does: its containers, its
		// server dirs and work root (in tmp: TMPDIR), its scratch databases. The
		// docker daemon may still be creating a container the dead run asked for,
		// and the server still ending the dead run's sessions (a scratch database
		// in use is kept): prune again until nothing is left, as a user would.
		extra := []string{}
		if c.provider == "dsn" {
			extra = []string{"--dsn", admins[c.engine], "--older-than", "0s"}
		}
		for try := 1; try <= 15; try++ {
			p := exec.Command(bin, append([]string{"engines", "prune"}, extra...)...)
			p.Env = env
			b, err := p.CombinedOutput()
			assert.NilError(t, err, "prune: %s", b)
			t.Logf("prune %d: %s", try, strings.TrimSpace(string(b)))
			if left = leftovers(t, pid, tmp, admins); len(left) == 0 {
				break
			}
			time.Sleep(time.Second)
		}
		assert.Assert(t, len(left) == 0, "left behind after SIGKILL and 15 prunes (%s):\n%s\n%s", c, strings.Join(left, "\n"), out.String())
		return took, ok
	}
	for range 50 { // a server still shutting down gets a few seconds
		if left = leftovers(t, pid, tmp, admins); len(left) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	assert.Assert(t, len(left) == 0, "left behind (%s):\n%s\n%s", c, strings.Join(left, "\n"), out.String())
	return took, ok
}

// leftovers is started's list (containers, processes, temp entries other than the
// report) plus the scratch databases on the dsn servers.
func leftovers(t *testing.T, pid int, tmp string, admins map[string]string) []string {
	var left []string
	for _, s := range started(t, pid, tmp) {
		if s != "temp "+filepath.Join(tmp, "report.json") {
			left = append(left, s)
		}
	}
	for eng, u := range admins {
		fam := engine.MustParseSpec(eng).Family()
		driver, d, err := scratch.DriverDSN(fam, u)
		assert.NilError(t, err)
		db, err := sql.Open(driver, d)
		assert.NilError(t, err)
		q := map[engine.Family]string{engine.Postgres: `SELECT datname FROM pg_database`, engine.MySQL: `SELECT schema_name FROM information_schema.schemata`}[fam]
		rows, err := db.Query(q)
		assert.NilError(t, err)
		for rows.Next() {
			var n string
			assert.NilError(t, rows.Scan(&n))
			if strings.HasPrefix(n, engine.DatabasePrefix) {
				left = append(left, "database "+n+" on "+eng)
			}
		}
		rows.Close()
		db.Close()
	}
	return left
}

// existingServer starts a server the test owns with the local provider and returns
// its admin URL: the existing server the dsn provider is pointed at.
func existingServer(t *testing.T, eng string) string {
	t.Helper()
	spec := engine.MustParseSpec(eng)
	p := local.New(local.Config{})
	if err := p.Available(t.Context(), spec); err != nil {
		t.Skipf("no local %s: %v", eng, err)
	}
	srv, err := p.Start(t.Context(), spec)
	assert.NilError(t, err)
	t.Cleanup(func() { srv.Stop(context.Background()) })
	db, err := srv.CreateDatabase(t.Context())
	assert.NilError(t, err)
	u, err := url.Parse(db.DSN())
	assert.NilError(t, err)
	assert.NilError(t, db.Drop(t.Context()))
	u.Path = map[engine.Family]string{engine.Postgres: "/postgres", engine.MySQL: "/"}[spec.Family()]
	return u.String()
}
