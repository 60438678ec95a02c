package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// The project the engine dies under. The baseline makes a table; the expand step
// sleeps (the "step" moment) or the old release's query sleeps (the "query"
// moment), so the kill lands while the server is busy with straddle's SQL. Both
// are otherwise compatible: any verdict but "error" would be a false one.
var killProject = map[string]string{
	"migrations/postgres/0001_base.sql": "-- straddle:phase baseline\nCREATE TABLE t (id INT PRIMARY KEY);\n",
	"migrations/postgres/0002_slow.sql": "-- straddle:phase expand\nSELECT pg_sleep(60);\n",
	"migrations/mysql/0001_base.sql":    "-- straddle:phase baseline\nCREATE TABLE t (id INT PRIMARY KEY);\n",
	"migrations/mysql/0002_slow.sql":    "-- straddle:phase expand\nDO SLEEP(60);\n",
	"migrations/postgres-fast/0001.sql": "-- straddle:phase baseline\nCREATE TABLE t (id INT PRIMARY KEY);\n",
	"migrations/postgres-fast/0002.sql": "-- straddle:phase expand\nCREATE INDEX t_id ON t (id);\n",
	"migrations/mysql-fast/0001.sql":    "-- straddle:phase baseline\nCREATE TABLE t (id INT PRIMARY KEY);\n",
	"migrations/mysql-fast/0002.sql":    "-- straddle:phase expand\nCREATE INDEX t_id ON t (id);\n",
	"fast.sql":                          "-- name: Count :one\nSELECT count(*) FROM t;\n",
	"slow.sql":                          "-- name: SlowPG :many\n-- engine: postgres\nSELECT 1 FROM pg_sleep(60);\n\n-- name: SlowMy :many\n-- engine: mysql\nSELECT SLEEP(60);\n",
}

// killCase is one way an engine dies.
type killCase struct {
	provider, engine string
	moment           string // "step": while a migration step runs; "query": while a release's query runs
	signal           string // "KILL", or the server's clean shutdown signal
}

// TestEngineDeathIsNoVerdict kills the engine under `straddle check` — SIGKILL and a
// clean shutdown, docker and local, PostgreSQL and MariaDB, while a migration step
// runs and while a query runs — and asserts every run ends as an environment
// failure: exit 3 and verdict "error" in the JSON report, never "incompatible".
// STRADDLE_KILL_ROUNDS repeats the matrix (default 2: 32 kills where docker runs).
func TestEngineDeathIsNoVerdict(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills database servers")
	}
	bin := buildStraddle(t)
	proj := writeTree(t, killProject)
	rounds := 2
	if n, err := strconv.Atoi(os.Getenv("STRADDLE_KILL_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	kills := 0
	docker := exec.Command("docker", "info").Run() == nil
	for round := range rounds {
		for _, provider := range []string{"docker", "local"} {
			for _, eng := range []string{"postgres", "mariadb"} {
				for _, moment := range []string{"step", "query"} {
					clean := "INT" // PostgreSQL: fast shutdown
					if eng == "mariadb" {
						clean = "TERM" // mariadbd: normal shutdown
					}
					for _, sig := range []string{"KILL", clean} {
						c := killCase{provider, eng, moment, sig}
						t.Run(fmt.Sprintf("%d/%s/%s/%s/%s", round, provider, eng, moment, sig), func(t *testing.T) {
							if provider == "docker" && !docker {
								t.Skip("docker daemon not reachable: start Docker (make deps)")
							}
							killOnce(t, bin, proj, c)
							kills++
						})
					}
				}
			}
		}
	}
	t.Logf("engines killed: %d, every run exit 3 with verdict error", kills)
}

func killOnce(t *testing.T, bin, proj string, c killCase) {
	tmp, err := os.MkdirTemp("", "kill-test-")
	assert.NilError(t, err)
	assert.NilError(t, os.Chmod(tmp, 0o755))
	t.Cleanup(func() { os.RemoveAll(tmp) })

	migrations, old := "migrations/{family}", "slow.sql"
	if c.moment == "step" {
		old = "fast.sql"
	} else {
		migrations = "migrations/{family}-fast"
	}
	report := filepath.Join(tmp, "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "check", "--provider", c.provider, "--engine", c.engine,
		"--migrations", filepath.Join(proj, migrations), "--old", filepath.Join(proj, old), "--new", filepath.Join(proj, "fast.sql"),
		"--format", "json", "--out", report)
	cmd.Env = runEnv(tmp)
	// A run that hangs is dumped (its goroutines end up in the log), then killed.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StderrPipe()
	assert.NilError(t, err)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	assert.NilError(t, cmd.Start())
	pid := cmd.Process.Pid

	var log strings.Builder
	checking := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		seen := false
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if !seen && strings.Contains(sc.Text(), "checking") {
				seen = true
				close(checking)
			}
		}
	}()
	select {
	case <-checking:
	case <-done:
		t.Fatalf("straddle exited before checking:\n%s", log.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("not checking after 2m:\n%s", log.String())
	}
	// The server starts, the baseline is applied, then the slow SQL runs for 60 s:
	// kill once it is seen running.
	target := waitSlow(t, pid, tmp, c)
	if ps, _ := exec.Command("sh", "-c", "ps -eo pid,ppid,lstart,args | grep -F "+tmp+"/ | grep -v grep").Output(); len(ps) > 0 {
		t.Logf("processes at the kill:\n%s", ps)
	}
	assert.NilError(t, target(), "kill the engine (%+v)", c)

	err = cmd.Wait()
	<-done
	// Nothing the run started may outlive it (a server still shutting down gets a
	// few seconds).
	var left []byte
	for range 50 {
		if left, _ = exec.Command("sh", "-c", "ps -eo pid,ppid,stat,args | grep -F "+tmp+"/ | grep -v grep").Output(); len(left) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	assert.Assert(t, len(left) == 0, "left running after straddle exited (%+v):\n%s", c, left)
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		ps, _ := exec.Command("sh", "-c", "ps -eo pid,ppid,stat,args | grep -F "+tmp+" | grep -v grep").Output()
		logs, _ := exec.Command("sh", "-c", "tail -n 30 "+tmp+"/straddle-*/server.log").Output()
		t.Logf("after the kill, processes under %s:\n%s\nserver log:\n%s", tmp, ps, logs)
	}
	var ee *exec.ExitError
	assert.Assert(t, errors.As(err, &ee), "straddle exited 0 after the engine died:\n%s", log.String())
	assert.Equal(t, ee.ExitCode(), 3, "exit code after the engine died (%+v):\n%s", c, log.String())
	b, err := os.ReadFile(report)
	assert.NilError(t, err, "the report is written on an environment failure too:\n%s", log.String())
	var res struct {
		Verdict    string
		Violations []json.RawMessage
		Runs       []struct{ Error string }
	}
	assert.NilError(t, json.Unmarshal(b, &res))
	assert.Equal(t, res.Verdict, "error", "verdict after the engine died (%+v):\n%s", c, b)
	assert.Equal(t, len(res.Violations), 0, "violations after the engine died:\n%s", b)
	assert.Assert(t, len(res.Runs) == 1 && res.Runs[0].Error != "", "the run names the reason:\n%s", b)
	t.Logf("exit 3, verdict error: %s", res.Runs[0].Error)
	// The kill landed where the case says: in the step, or in the slow query.
	where := "Slow"
	if c.moment == "step" {
		where = "0002"
	}
	assert.Assert(t, strings.Contains(res.Runs[0].Error, where), "the engine died elsewhere than in the %s: %s", c.moment, res.Runs[0].Error)
	assert.Assert(t, strings.Contains(log.String(), "environment failure"), "stderr says why:\n%s", log.String())
}

// waitSlow waits until the sleeping statement of case c runs on the server of
// straddle process pid, and returns the function that kills that server.
func waitSlow(t *testing.T, pid int, tmp string, c killCase) func() error {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		if c.provider == "docker" {
			out, _ := exec.Command("docker", "ps", "-q", "--filter", "label=dev.straddle.pid="+strconv.Itoa(pid)).Output()
			id := strings.TrimSpace(string(out))
			if id == "" || !sleeping(dockerSQL(id, c.engine)) {
				continue
			}
			return func() error { return exec.Command("docker", "kill", "-s", c.signal, id).Run() }
		}
		q, port := localSQL(tmp, c.engine)
		if c.engine == "postgres" && !sleeping(q) {
			continue // no socket yet (starting: a kill now would test startup), or not sleeping yet
		}
		srv := serverPID(pid, tmp, c.engine, port)
		if srv == 0 {
			continue
		}
		if c.engine == "mariadb" {
			// No password to look with: the socket appears once the server is up,
			// then a scratch database and the baseline take well under a second.
			socks, _ := filepath.Glob(filepath.Join(tmp, "straddle-*", "mysqld.sock"))
			if len(socks) == 0 {
				continue
			}
			time.Sleep(3 * time.Second)
		}
		sig := syscall.SIGKILL
		switch c.signal {
		case "INT":
			sig = syscall.SIGINT
		case "TERM":
			sig = syscall.SIGTERM
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", srv))
		t.Logf("kill -%s %d: %s", c.signal, srv, strings.ReplaceAll(string(b), "\x00", " "))
		return func() error { return syscall.Kill(srv, sig) }
	}
	t.Fatalf("the slow statement never ran (%+v)", c)
	return nil
}

// sleeping runs the server's process list through q and reports whether a
// sleeping statement of straddle's shows in it.
func sleeping(q *exec.Cmd) bool {
	if q == nil {
		return false
	}
	out, err := q.Output()
	return err == nil && strings.Contains(strings.ToLower(string(out)), "sleep(60)")
}

const (
	pgActivity = "SELECT query FROM pg_stat_activity WHERE query LIKE '%sleep(60)%' AND state = 'active' AND pid <> pg_backend_pid()"
	myActivity = "SELECT info FROM information_schema.processlist WHERE info LIKE '%SLEEP(60)%' AND id <> CONNECTION_ID()"
)

func dockerSQL(id, eng string) *exec.Cmd {
	if eng == "postgres" {
		return exec.Command("docker", "exec", id, "psql", "-U", "postgres", "-Atc", pgActivity)
	}
	return exec.Command("docker", "exec", id, "sh", "-c", `mariadb -uroot -p"${MARIADB_ROOT_PASSWORD:-$MYSQL_ROOT_PASSWORD}" -N -e "`+myActivity+`"`)
}

// localSQL queries the local server whose socket lives under tmp; nil where
// straddle's password is needed (MariaDB), and waitSlow waits instead. port is the
// server's port, from its socket's name.
func localSQL(tmp, eng string) (q *exec.Cmd, port string) {
	if eng != "postgres" {
		return nil, ""
	}
	socks, _ := filepath.Glob(filepath.Join(tmp, "straddle-*", ".s.PGSQL.*"))
	if len(socks) == 0 {
		return nil, ""
	}
	port = strings.TrimPrefix(filepath.Ext(socks[0]), ".")
	// The unix socket trusts its owner (the local provider's pg_hba).
	return exec.Command("psql", "-h", filepath.Dir(socks[0]), "-p", port, "-U", "postgres", "-d", "postgres", "-Atc", pgActivity), port
}

// serverPID returns the pid of the local server straddle process parent started
// under tmp: its child named postgres or mariadbd whose command line names tmp
// (and, for PostgreSQL, port: the server that answered); 0 if none yet.
func serverPID(parent int, tmp, eng, port string) int {
	name := "postgres"
	if eng == "mariadb" {
		name = "mariadbd"
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b)[i+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(parent) {
			continue
		}
		dir := filepath.Dir(st)
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		args := strings.Split(string(cmdline), "\x00")
		if filepath.Base(args[0]) != name || !strings.Contains(string(cmdline), tmp) {
			continue
		}
		if port != "" && !strings.Contains(string(cmdline), "\x00-p\x00"+port+"\x00") {
			continue // an earlier attempt, on a port that was taken
		}
		pid, _ := strconv.Atoi(filepath.Base(dir))
		return pid
	}
	return 0
}
