package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
)

// DefaultOutputLimit is how many bytes of a command's output are kept when
// Command.OutputLimit is zero: the tail, where test runners print their summary.
const DefaultOutputLimit = 4 << 10

// DefaultWaitDelay is how long a command gets to exit after SIGINT (and to close
// its output after exiting) when Command.WaitDelay is zero.
const DefaultWaitDelay = 10 * time.Second

// Command is a shell command line and how to run it.
type Command struct {
	// Line is run with sh -c, as the user wrote it.
	Line string
	// Dir is the working directory; "" is the current one.
	Dir string
	// Env is added to the process's environment (later entries win).
	Env []string
	// OutputLimit caps the output kept (the tail); 0 means DefaultOutputLimit.
	OutputLimit int
	// WaitDelay is how long the command has to exit after an interrupt; 0 means
	// DefaultWaitDelay.
	WaitDelay time.Duration
	// Redact lists values (a database URL, a password) replaced by "xxxxx" in the
	// output kept, wherever they occur as whole values (engine.Secrets.Redact):
	// inside a longer word they are left alone, so messages keep their words.
	Redact []string
}

// Result is how a command ended.
type Result struct {
	// ExitCode is the exit status; -1 when the command was killed by a signal.
	ExitCode int
	// Output is the tail of stdout and stderr interleaved, redacted.
	Output   string
	Duration time.Duration
}

// OK reports whether the command exited with status 0.
func (r Result) OK() bool { return r.ExitCode == 0 }

// Status renders the exit as reports show it: "exit status 1", "killed by signal".
func (r Result) Status() string {
	if r.ExitCode < 0 {
		return "killed by signal"
	}
	return "exit status " + strconv.Itoa(r.ExitCode)
}

// Run runs c to completion. A non-zero exit is a Result, not an error; err is
// for a command that could not be started and for ctx cancellation (ctx.Err()),
// which interrupts the command's whole process group.
func (c Command) Run(ctx context.Context) (Result, error) {
	if strings.TrimSpace(c.Line) == "" {
		return Result{}, errors.New("empty command")
	}
	limit := c.OutputLimit
	if limit <= 0 {
		limit = DefaultOutputLimit
	}
	wait := c.WaitDelay
	if wait <= 0 {
		wait = DefaultWaitDelay
	}
	out := &tail{limit: limit}
	cmd := exec.CommandContext(ctx, "sh", "-c", c.Line)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdout, cmd.Stderr = out, out
	done := group(cmd, wait)
	cmd.WaitDelay = wait + time.Second // after the group's SIGKILL
	start := time.Now()
	err := cmd.Run()
	done()
	res := Result{Duration: time.Since(start), Output: redact(out.String(), c.Redact)}
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	var exit *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
		// ErrWaitDelay: it exited 0 but left something holding its output open.
		res.ExitCode = 0
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	default:
		return Result{}, fmt.Errorf("run %q: %w", c.Line, err)
	}
	return res, nil
}

// tail keeps the last limit bytes written to it. Safe for concurrent use; mu
// protects buf and cut.
type tail struct {
	mu    sync.Mutex
	limit int
	buf   []byte
	cut   int64 // bytes dropped from the front
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.cut += int64(over)
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the output kept, starting at a line boundary when the front was
// cut, with a first line saying how much was left out.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if t.cut == 0 {
		return string(b)
	}
	cut := t.cut
	if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
		cut += int64(i + 1)
		b = b[i+1:]
	}
	return fmt.Sprintf("[… %d bytes of output before this]\n%s", cut, b)
}

func redact(s string, secrets []string) string {
	return engine.Secrets{}.With(secrets...).Redact(s)
}

// Quote returns s quoted for sh when it holds anything but characters that are
// safe unquoted.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=+,@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
