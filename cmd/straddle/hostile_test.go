package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/straddle-dev/straddle/internal/cli"
)

// TestHostileInputs feeds straddle inputs that used to hang it, exhaust its memory,
// crash it or write outside its work dir, and asserts each is refused promptly with
// the exit code of shared/DESIGN.md and a message naming the input. None of them
// needs a server: bad input is found before anything starts.
func TestHostileInputs(t *testing.T) {
	const query = "-- name: One :one\nSELECT 1;\n"
	const migration = "-- straddle:phase baseline\nCREATE TABLE t (id INT);\n"
	tests := []struct {
		name   string
		reason string
		files  map[string]string              // written under the test's dir ($D in args)
		setup  func(t *testing.T, dir string) // special files
		args   []string
		exit   int
		want   []string // substrings of the error message ($D replaced)
		absent string   // a path (under $D/..) that must not exist afterwards
	}{
		{
			name:   "fifo migration",
			reason: "opening a FIFO for reading blocks until a writer comes: forever, and Ctrl-C could not stop it",
			files:  map[string]string{"q.sql": query},
			setup:  func(t *testing.T, d string) { mkfifo(t, filepath.Join(d, "m", "0001_fifo.sql")) },
			args:   []string{"check", "--provider", "local", "--engine", "postgres", "--migrations", "$D/m", "--old", "$D/q.sql", "--new", "$D/q.sql"},
			exit:   2, want: []string{"$D/m/0001_fifo.sql", "named pipe"},
		},
		{
			name:   "fifo query file",
			reason: "the same hang through --old",
			files:  map[string]string{"m/0001_a.sql": migration, "q.sql": query},
			setup:  func(t *testing.T, d string) { mkfifo(t, filepath.Join(d, "fifo.sql")) },
			args:   []string{"check", "--provider", "local", "--engine", "postgres", "--migrations", "$D/m", "--old", "$D/fifo.sql", "--new", "$D/q.sql"},
			exit:   2, want: []string{"$D/fifo.sql", "named pipe"},
		},
		{
			name:   "symlink to /dev/zero",
			reason: "a device never ends: it was read until out of memory",
			files:  map[string]string{"m/0001_a.sql": migration, "q.sql": query},
			setup: func(t *testing.T, d string) {
				assert.NilError(t, os.Symlink("/dev/zero", filepath.Join(d, "zero.sql")))
			},
			args: []string{"check", "--provider", "local", "--engine", "postgres", "--migrations", "$D/m", "--old", "$D/zero.sql", "--new", "$D/q.sql"},
			exit: 2, want: []string{"$D/zero.sql", "device"},
		},
		{
			name:   "socket query file",
			reason: "a socket is no file to read either",
			files:  map[string]string{"m/0001_a.sql": migration, "q.sql": query},
			setup: func(t *testing.T, d string) {
				l, err := net.Listen("unix", filepath.Join(d, "sock.sql"))
				assert.NilError(t, err)
				t.Cleanup(func() { l.Close() })
			},
			args: []string{"check", "--provider", "local", "--engine", "postgres", "--migrations", "$D/m", "--old", "$D/sock.sql", "--new", "$D/q.sql"},
			exit: 2, want: []string{"$D/sock.sql", "socket"},
		},
		{
			name:   "oversized migration",
			reason: "input files are read up to 64 MiB; a larger one is refused, not read",
			files:  map[string]string{"q.sql": query},
			setup: func(t *testing.T, d string) {
				assert.NilError(t, os.MkdirAll(filepath.Join(d, "m"), 0o755))
				f, err := os.Create(filepath.Join(d, "m", "0001_big.sql"))
				assert.NilError(t, err)
				assert.NilError(t, f.Truncate(65<<20)) // sparse: costs no disk
				assert.NilError(t, f.Close())
			},
			args: []string{"check", "--provider", "local", "--engine", "postgres", "--migrations", "$D/m", "--old", "$D/q.sql", "--new", "$D/q.sql"},
			exit: 2, want: []string{"$D/m/0001_big.sql", "larger than 64 MiB"},
		},
		{
			name:   "NUL byte in a query",
			reason: "the server rejects it as an error that looked like an environment failure (exit 3); it is the file's fault",
			files:  map[string]string{"m/0001_a.sql": migration, "q.sql": query, "nul.sql": "-- name: One :one\nSELECT 1;\n-- name: Two :one\nSELECT '\x00';\n"},
			args:   []string{"check", "--provider", "local", "--engine", "postgres", "--migrations", "$D/m", "--old", "$D/nul.sql", "--new", "$D/q.sql"},
			exit:   2, want: []string{"$D/nul.sql:4:", "NUL byte"},
		},
		{
			name:   "NUL byte in a migration",
			reason: "the same in a step, at its line",
			files:  map[string]string{"m/0001_a.sql": "-- straddle:phase baseline\nCREATE TABLE t (id INT);\n\nINSERT INTO t VALUES (1);\x00\n", "q.sql": query},
			args:   []string{"check", "--provider", "local", "--engine", "postgres", "--migrations", "$D/m", "--old", "$D/q.sql", "--new", "$D/q.sql"},
			exit:   2, want: []string{"$D/m/0001_a.sql:4:", "NUL byte"},
		},
		{
			name:   "invalid UTF-8 in a migration",
			reason: "a Latin-1 file: the server would refuse it with an encoding error",
			files:  map[string]string{"m/0001_a.sql": "-- straddle:phase baseline\nCREATE TABLE t (name VARCHAR(10) DEFAULT 'caf\xe9');\n", "q.sql": query},
			args:   []string{"check", "--provider", "local", "--engine", "postgres", "--migrations", "$D/m", "--old", "$D/q.sql", "--new", "$D/q.sql"},
			exit:   2, want: []string{"$D/m/0001_a.sql:2:", "invalid UTF-8"},
		},
		{
			name:   "txtar marker -- --",
			reason: "go-internal's txtar panics (slice bounds out of range) on a marker whose prefix and suffix overlap",
			files:  map[string]string{"s.txtar": "# a scenario\nsql 'SELECT 1'\n-- --\nbody\n"},
			args:   []string{"run", "--provider", "local", "--engine", "postgres", "$D/s.txtar"},
			exit:   2, want: []string{"$D/s.txtar:3:", "malformed file marker"},
		},
		{
			name:   "txtar member with ..",
			reason: "lint and testscript write members under the work dir: ../ escaped it",
			files:  map[string]string{"s.txtar": "# a scenario\nsql 'SELECT 1'\n-- ../../escaped.sql --\nSELECT 1;\n"},
			args:   []string{"run", "--provider", "local", "--engine", "postgres", "$D/s.txtar"},
			exit:   2, want: []string{"$D/s.txtar:3:", `".."`},
			absent: "escaped.sql",
		},
		{
			name:   "txtar member absolute",
			reason: "an absolute name is outside the work dir by definition",
			files:  map[string]string{"s.txtar": "# a scenario\nsql 'SELECT 1'\n-- /tmp/straddle-hostile-abs.sql --\nSELECT 1;\n"},
			args:   []string{"run", "--provider", "local", "--engine", "postgres", "$D/s.txtar"},
			exit:   2, want: []string{"$D/s.txtar:3:", "absolute"},
		},
		{
			name:   "txtar member empty",
			reason: "an empty name would be the work dir itself",
			files:  map[string]string{"s.txtar": "# a scenario\nsql 'SELECT 1'\n--  --\nSELECT 1;\n"},
			args:   []string{"run", "--provider", "local", "--engine", "postgres", "$D/s.txtar"},
			exit:   2, want: []string{"$D/s.txtar:3:", "empty"},
		},
		{
			name:   "fifo scenario",
			reason: "straddle run read a FIFO script forever",
			setup:  func(t *testing.T, d string) { mkfifo(t, filepath.Join(d, "s.txtar")) },
			args:   []string{"run", "--provider", "local", "--engine", "postgres", "$D/s.txtar"},
			exit:   2, want: []string{"$D/s.txtar", "named pipe"},
		},
		{
			name:   "dsn port out of range",
			reason: "port 99999999 waited 60 s before failing; it cannot parse, so it is bad usage",
			files:  map[string]string{"m/0001_a.sql": migration, "q.sql": query},
			args:   []string{"check", "--provider", "dsn", "--dsn", "postgres://u:secret@127.0.0.1:99999999/postgres", "--migrations", "$D/m", "--old", "$D/q.sql", "--new", "$D/q.sql"},
			exit:   2, want: []string{"port", "99999999"},
		},
		{
			name:   "dsn connection refused",
			reason: "a server that refuses connections is not coming up: fail at once (exit 3), no 60 s wait",
			files:  map[string]string{"m/0001_a.sql": migration, "q.sql": query},
			setup:  func(t *testing.T, d string) {},
			args:   []string{"check", "--provider", "dsn", "--dsn", "postgres://u:secret@127.0.0.1:" + closedPort(t) + "/postgres", "--migrations", "$D/m", "--old", "$D/q.sql", "--new", "$D/q.sql"},
			exit:   3, want: []string{"127.0.0.1", "refused"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			work := filepath.Join(d, "in", "deeper")
			assert.NilError(t, os.MkdirAll(work, 0o755))
			for name, body := range tt.files {
				p := filepath.Join(work, name)
				assert.NilError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				assert.NilError(t, os.WriteFile(p, []byte(body), 0o644))
			}
			if tt.setup != nil {
				tt.setup(t, work)
			}
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "$D", work)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			type result struct {
				err    error
				stderr string
			}
			done := make(chan result, 1)
			start := time.Now()
			go func() {
				var stdout, stderr bytes.Buffer
				err := cli.Run(ctx, args, &stdout, &stderr)
				done <- result{err, stderr.String()}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("still running after 30s: %s", tt.reason)
			}
			took := time.Since(start)
			assert.Assert(t, took < 15*time.Second, "took %s: %s", took, tt.reason)
			assert.Equal(t, cli.ExitCode(r.err), tt.exit, "error: %v\nstderr: %s\nreason: %s", r.err, r.stderr, tt.reason)
			msg := r.err.Error() + "\n" + r.stderr
			for _, w := range tt.want {
				assert.Assert(t, strings.Contains(msg, strings.ReplaceAll(w, "$D", work)), "message lacks %q:\n%s\nreason: %s", w, msg, tt.reason)
			}
			assert.Assert(t, !strings.Contains(msg, "secret"), "the password leaked: %s", msg)
			if tt.absent != "" {
				for _, dir := range []string{d, filepath.Join(d, "in"), os.TempDir()} {
					_, err := os.Stat(filepath.Join(dir, tt.absent))
					assert.Assert(t, os.IsNotExist(err), "%s was written outside the work dir", filepath.Join(dir, tt.absent))
				}
			}
			t.Logf("exit %d in %s: %v", cli.ExitCode(r.err), took.Round(time.Millisecond), r.err)
		})
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	assert.NilError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	assert.NilError(t, syscall.Mkfifo(path, 0o644))
}

// closedPort returns a loopback port nothing listens on (it was just closed).
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	assert.NilError(t, err)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}
