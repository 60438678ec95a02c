package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
)

// Prune removes what local servers of dead straddle processes left behind: a run
// killed with SIGKILL cannot stop its servers or remove their temp dirs. A dir is
// ours when it matches engine.TempPattern in the temp dir and holds the
// engine.OwnerFile Start writes (the run work root of `straddle run` holds one too); it is a
// leftover when that pid is no longer alive and the file belongs to the caller's
// user (or always, with all: other users' and live runs' too). A server still running in it is stopped first. It returns what it
// removed.
func (p *Provider) Prune(ctx context.Context, all bool) ([]string, error) {
	var dirs []string
	for _, root := range p.tempRoots() {
		d, err := filepath.Glob(filepath.Join(root, engine.TempPattern))
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, d...)
	}
	var removed []string
	var errs []error
	for _, dir := range dirs {
		owner, ok := readPid(filepath.Join(dir, engine.OwnerFile))
		if !ok || (!all && (pidAlive(owner) || !mine(filepath.Join(dir, engine.OwnerFile)))) {
			continue
		}
		what := "temp dir " + dir
		for _, pidFile := range []string{filepath.Join(dir, "data", "postmaster.pid"), filepath.Join(dir, "mysqld.pid")} {
			if srv, ok := readPid(pidFile); ok && pidAlive(srv) {
				stopOrphan(ctx, srv)
				what = fmt.Sprintf("server pid %d and %s", srv, what)
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
			continue
		}
		removed = append(removed, what)
	}
	return removed, errors.Join(errs...)
}

// readPid reads the pid on the first line of a pid file.
func readPid(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	return pid, err == nil && pid > 0
}

// stopOrphan stops a server left by a dead run: a polite signal to its process
// group (servers run in a group of their own, led by the server), then SIGKILL.
func stopOrphan(ctx context.Context, pid int) {
	_ = signalGroup(pid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for pidAlive(pid) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	killGroup(pid)
}
