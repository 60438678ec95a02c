package local_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/local"
)

// TestPruneAfterKill kills a process that has a local server running (SIGKILL: it
// cannot clean up), then proves Prune stops the orphaned server and removes its
// temp dir, and leaves a live owner's dir alone.
func TestPruneAfterKill(t *testing.T) {
	if os.Getenv("STRADDLE_PRUNE_CHILD") != "" {
		pruneChild()
		return
	}
	if testing.Short() {
		t.Skip("starts a database server")
	}
	p := local.New(local.Config{})
	spec := engine.MustParseSpec("postgres")
	if err := p.Available(context.Background(), spec); err != nil {
		t.Skipf("install postgresql (make deps): %v", err)
	}
	tmp, err := os.MkdirTemp("", "prune-test-")
	assert.NilError(t, err)
	assert.NilError(t, os.Chmod(tmp, 0o755))
	t.Cleanup(func() { os.RemoveAll(tmp) })

	child := exec.Command(os.Args[0], "-test.run=^TestPruneAfterKill$")
	child.Env = append(os.Environ(), "STRADDLE_PRUNE_CHILD=1", "TMPDIR="+tmp)
	out, err := child.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, child.Start())
	sc := bufio.NewScanner(out)
	ready := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "READY") {
			ready = true
			break
		}
	}
	assert.Assert(t, ready, "child did not start a server")

	pruner := local.New(local.Config{TempDir: tmp})
	// The owner is alive: nothing is pruned.
	removed, err := pruner.Prune(context.Background(), false)
	assert.NilError(t, err)
	assert.Equal(t, len(removed), 0, "pruned a live run's server: %v", removed)
	assert.Assert(t, len(serversIn(tmp)) > 0)

	assert.NilError(t, child.Process.Kill())
	_ = child.Wait()
	// On Linux the server usually follows its owner (a parent-death signal); its
	// temp dir cannot, and a server may also outlive it: both are for Prune.
	dirs, _ := filepath.Glob(filepath.Join(tmp, engine.TempPattern))
	assert.Equal(t, len(dirs), 1, "no leftover to prune: the test would prove nothing")

	removed, err = pruner.Prune(context.Background(), false)
	assert.NilError(t, err)
	assert.Equal(t, len(removed), 1, "removed: %v", removed)
	t.Log(removed[0])
	deadline := time.Now().Add(10 * time.Second)
	for len(serversIn(tmp)) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	assert.Equal(t, len(serversIn(tmp)), 0, "server still running: %v", serversIn(tmp))
	left, _ := filepath.Glob(filepath.Join(tmp, engine.TempPattern))
	assert.Equal(t, len(left), 0, "temp dirs left: %v", left)
}

// pruneChild starts a server, says so, and waits to be killed.
func pruneChild() {
	srv, err := local.New(local.Config{}).Start(context.Background(), engine.MustParseSpec("postgres"))
	if err != nil {
		os.Stdout.WriteString("ERROR " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("READY " + srv.Version() + "\n")
	select {}
}

// serversIn lists processes whose command line names dir.
func serversIn(dir string) []string {
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), dir) && !strings.Contains(string(b), "-test.run") {
			found = append(found, filepath.Base(filepath.Dir(p)))
		}
	}
	return found
}

// TestPruneTakesOnlyTheCallersDeadRuns: dirs of dead runs (a pid that cannot be
// alive) are pruned when they are the caller's, left alone when another user's
// run made them, and taken with all; a live run's dir only with all.
func TestPruneTakesOnlyTheCallersDeadRuns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a file owned by another user")
	}
	const dead = "2147483646" // above pid_max: never alive
	tests := []struct {
		name   string
		pid    string
		uid    int // owner of straddle.pid; -1: the caller
		all    bool
		pruned bool
		reason string
	}{
		{"mine dead", dead, -1, false, true, "a run of the caller's that was killed outright"},
		{"other user dead", dead, 65534, false, false, "another user's run on a shared machine is theirs to prune"},
		{"other user dead all", dead, 65534, true, true, "--all takes everything"},
		{"mine alive", "1", -1, false, false, "pid 1 is alive: a live run is never pruned by default"},
		{"mine alive all", "1", -1, true, true, "--all takes live runs too"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "straddle-prunetest")
			assert.NilError(t, os.Mkdir(dir, 0o755))
			pidFile := filepath.Join(dir, "straddle.pid")
			assert.NilError(t, os.WriteFile(pidFile, []byte(tt.pid+"\n"), 0o644))
			if tt.uid >= 0 {
				assert.NilError(t, os.Chown(pidFile, tt.uid, tt.uid))
			}
			removed, err := local.New(local.Config{TempDir: tmp}).Prune(context.Background(), tt.all)
			assert.NilError(t, err)
			_, statErr := os.Stat(dir)
			assert.Equal(t, len(removed) == 1, tt.pruned, "removed %v: %s", removed, tt.reason)
			assert.Equal(t, os.IsNotExist(statErr), tt.pruned, "%s", tt.reason)
		})
	}
}
