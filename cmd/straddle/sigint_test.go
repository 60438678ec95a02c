package main

import (
	"bufio"
	"context"
	"errors"
	"io"
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

// sleepy opens a scratch database (sql) and then waits, so the process is caught
// with an engine started and a database created.
const sleepy = `# Opens a database, then waits to be interrupted.
sql 'SELECT 1'
exec sleep 120
`

// TestSIGINTLeavesNothing starts `straddle run` on a script that holds an engine
// and a database, interrupts it as Ctrl-C would, and proves that what it started —
// containers, server processes, temp dirs — is gone when it exits.
func TestSIGINTLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts database servers")
	}
	bin := filepath.Join(t.TempDir(), "straddle")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	assert.NilError(t, build.Run())

	script := filepath.Join(t.TempDir(), "sleepy.txtar")
	assert.NilError(t, os.WriteFile(script, []byte(sleepy), 0o644))

	for _, provider := range []string{"docker", "local"} {
		for _, eng := range []string{"postgres", "mariadb"} {
			t.Run(provider+"/"+eng, func(t *testing.T) {
				if provider == "docker" && exec.Command("docker", "info").Run() != nil {
					t.Skip("docker daemon not reachable: start Docker (make deps)")
				}
				interrupt(t, bin, script, provider, eng)
			})
		}
	}
}

func interrupt(t *testing.T, bin, script, provider, eng string) {
	// A temp dir of the run's own, reachable by the unprivileged server user, so
	// whatever the local provider leaves in it can be seen.
	tmp, err := os.MkdirTemp("", "sigint-test-")
	assert.NilError(t, err)
	assert.NilError(t, os.Chmod(tmp, 0o755))
	t.Cleanup(func() { os.RemoveAll(tmp) })

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--provider", provider, "--engine", eng, script)
	cmd.Env = runEnv(tmp)
	out, err := cmd.StdoutPipe()
	assert.NilError(t, err)
	cmd.Stderr = cmd.Stdout
	assert.NilError(t, cmd.Start())
	pid := cmd.Process.Pid

	// Wait for the engine, then for the script to reach its sleep.
	ready := make(chan string, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "ready in") {
				ready <- sc.Text()
			}
		}
		close(ready)
	}()
	select {
	case line, ok := <-ready:
		if !ok {
			t.Fatalf("straddle exited before an engine was ready:\n%s", log.String())
		}
		t.Log(line)
	case <-time.After(2 * time.Minute):
		t.Fatalf("no engine ready after 2m:\n%s", log.String())
	}
	time.Sleep(1500 * time.Millisecond) // the script creates its database, then sleeps
	before := started(t, pid, tmp)
	assert.Assert(t, len(before) > 0, "nothing running to interrupt: the test would prove nothing")
	t.Logf("running before SIGINT: %v", before)

	assert.NilError(t, cmd.Process.Signal(syscall.SIGINT))
	err = cmd.Wait()
	var ee *exec.ExitError
	assert.Assert(t, errors.As(err, &ee), "straddle exited 0 after SIGINT:\n%s", log.String())
	t.Logf("exit code %d", ee.ExitCode())
	assert.Assert(t, ee.ExitCode() != 0 && ee.ExitCode() != 1, "an interrupted run is no verdict; exit %d", ee.ExitCode())

	left := started(t, pid, tmp)
	assert.Assert(t, len(left) == 0, "left behind after SIGINT: %v\n%s", left, log.String())
}

// started lists what the straddle process pid has running: containers labelled
// with its pid, processes whose command line names tmp, and entries in tmp.
func started(t *testing.T, pid int, tmp string) []string {
	t.Helper()
	var found []string
	if exec.Command("docker", "info").Run() == nil {
		out, err := exec.Command("docker", "ps", "-a", "-q", "--filter", "label=dev.straddle.pid="+strconv.Itoa(pid)).Output()
		assert.NilError(t, err)
		for _, id := range strings.Fields(string(out)) {
			found = append(found, "container "+id)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), tmp) {
			continue
		}
		found = append(found, "process "+filepath.Base(filepath.Dir(p))+": "+strings.ReplaceAll(string(b), "\x00", " "))
	}
	entries, err := os.ReadDir(tmp)
	if err != nil && !errors.Is(err, io.EOF) {
		assert.NilError(t, err)
	}
	for _, e := range entries {
		found = append(found, "temp "+filepath.Join(tmp, e.Name()))
	}
	return found
}
