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
