package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/scratch"
)

// Config configures the local provider. The zero value is ready to use.
type Config struct {
	// Dirs are extra directories to look for server binaries in, searched before
	// PATH and the usual install locations (/usr/lib/postgresql/*/bin, /usr/sbin, …).
	Dirs []string
	// User is the OS user servers run as when straddle runs as root. "" means the
	// product's usual system user (postgres, mysql), else nobody.
	User string
	// TempDir is where per-server temp dirs are made. "" means $TMPDIR when it is
	// set, else memory (/dev/shm) when it has room, else os.TempDir(). The server's
	// user must be able to reach it. A tmpfs makes starts and scratch databases
	// several times faster than a busy disk, even with fsync off (BenchmarkLocalStart,
	// BenchmarkCreateDatabase) — the docker provider puts its data on tmpfs too.
	TempDir string
	// Ready bounds the wait for a started server to accept connections; zero means
	// 60s.
	Ready time.Duration
	// CacheDir holds initialized data directories to copy instead of initializing
	// anew; "" means os.UserCacheDir()/straddle/local.
	CacheDir string
	// NoCache initializes every data directory from scratch.
	NoCache bool
}

// Provider starts throwaway servers from installed binaries. Safe for concurrent
// use; mu protects found and started.
type Provider struct {
	cfg Config

	mu      sync.Mutex
	found   map[engine.Flavor][]install
	started []*instance
}

var (
	_ engine.Provider       = (*Provider)(nil)
	_ engine.Starter        = (*Provider)(nil)
	_ engine.LeftoverLister = (*Provider)(nil)
)

// New returns a local provider.
func New(cfg Config) *Provider {
	return &Provider{cfg: cfg, found: map[engine.Flavor][]install{}}
}

// Name implements engine.Provider.
func (p *Provider) Name() string { return "local" }

// Available implements engine.Starter: nil when binaries that can run spec (its
// flavor and, when given, its version) are installed and there is a user to run them
// as. Its errors wrap engine.ErrNoEngine when installing something would fix them.
func (p *Provider) Available(ctx context.Context, spec engine.Spec) error {
	if _, err := p.pick(ctx, spec); err != nil {
		return err
	}
	_, err := p.runAs(kinds[spec.Flavor])
	return err
}

// Start implements engine.Provider: it initializes a data directory in a fresh temp
// dir, starts the server on a free loopback port and waits until it answers a query.
// The server's Spec has Version set to the major version run when spec has none.
func (p *Provider) Start(ctx context.Context, spec engine.Spec) (engine.Server, error) {
	in, err := p.pick(ctx, spec)
	if err != nil {
		return nil, err
	}
	k := kinds[spec.Flavor]
	as, err := p.runAs(k)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(p.tempRoot(), engine.TempPattern)
	if err != nil {
		return nil, fmt.Errorf("local %s: %w", spec, err)
	}
	i := &instance{p: p, kind: k, in: in, as: as, dir: dir, exited: make(chan struct{})}
	close(i.exited) // nothing runs yet
	p.mu.Lock()
	p.started = append(p.started, i)
	p.mu.Unlock()

	if !isNumeric(spec.Version) {
		spec.Version = in.major
	}
	srv, err := i.start(ctx, spec, p.cfg.Ready)
	if err != nil {
		if ctx.Err() != nil {
			// Interrupted while the server starts: it holds nothing worth a clean
			// shutdown, and a starting mariadbd ignores SIGTERM until it is up (15 s
			// of Ctrl-C). Kill its group now; stop then only waits and removes.
			i.mu.Lock()
			pid := i.pid
			i.mu.Unlock()
			if pid != 0 && !i.hasExited() { // a live group: its id is not reused
				killGroup(pid)
			}
		}
		return nil, errors.Join(fmt.Errorf("local %s: %w", spec, err), i.stop(context.WithoutCancel(ctx)))
	}
	return srv, nil
}

// Leftovers implements engine.LeftoverLister: the server processes this provider
// started that still run and the temp dirs it made that still exist.
func (p *Provider) Leftovers(ctx context.Context) ([]string, error) {
	p.mu.Lock()
	started := append([]*instance(nil), p.started...)
	p.mu.Unlock()
	var left []string
	for _, i := range started {
		left = append(left, i.leftovers()...)
	}
	return left, nil
}

// instance is one server this provider started; mu protects the fields below it.
type instance struct {
	p    *Provider
	kind *kind
	in   install
	as   *account
	dir  string

	mu      sync.Mutex
	pid     int                // of the last server process started, 0 before
	cancel  context.CancelFunc // stops the server process
	exited  chan struct{}      // closed once the server process was waited for
	waitErr error              // its exit, valid once exited is closed
	// reported is set when Start's error already says how the server exited.
	reported bool
	// stopping is set once stop was called: an exit after it was asked for.
	stopping bool
	// gone is set, when the server process exits, if no live process is left in
	// its group. The group is not looked at later: its id, a pid, may be reused.
	gone bool
}

// attempts is how many ports serve tries.
const attempts = 3

func (i *instance) start(ctx context.Context, spec engine.Spec, ready time.Duration) (*scratch.Server, error) {
	if err := i.as.chown(i.dir); err != nil {
		return nil, err
	}
	// The pid of the straddle process that owns this dir, for a future prune of what
	// a killed run left behind.
	if err := engine.MarkOwner(i.dir, 0o644); err != nil {
		return nil, err
	}
	s := &setup{dir: i.dir, data: filepath.Join(i.dir, "data")}
	entry := i.p.cacheEntry(i.kind, i.in)
	cached := fromCache(ctx, entry, s, i.as)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !cached {
		if err := i.initialize(ctx, s, entry); err != nil {
			return nil, err
		}
	}
	srv, err := i.serve(ctx, spec, s, ready)
	if err != nil && cached && ctx.Err() == nil && i.hasExited() && i.exitedWithError() {
		// The server rejects the cached data directory (damaged, or made by a build
		// that differs in a way the key misses): forget it and initialize afresh.
		// A server killed by a signal was not rejecting anything: that stays final.
		os.RemoveAll(entry)
		if err := os.RemoveAll(s.data); err != nil {
			return nil, err
		}
		if err := i.initialize(ctx, s, entry); err != nil {
			return nil, err
		}
		srv, err = i.serve(ctx, spec, s, ready)
	}
	return srv, err
}

// serve starts the server on a free port, trying another port when the server exits
// before it is ready because the port was taken: a port found free may be taken
// before the server binds it. Any other early exit (a crash, a kill) is final: a
// second server in the same directory would hide it.
func (i *instance) serve(ctx context.Context, spec engine.Spec, s *setup, ready time.Duration) (*scratch.Server, error) {
	var err error
	for range attempts {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		var srv *scratch.Server
		var portTaken bool
		srv, portTaken, err = i.run(ctx, spec, s, ready)
		if err == nil || ctx.Err() != nil || !i.hasExited() || !portTaken {
			return srv, err
		}
	}
	return nil, err
}

// addrInUse is how PostgreSQL and MariaDB alike report a port taken (EADDRINUSE's
// text, in their log).
const addrInUse = "Address already in use"

// initialize makes the data directory with a new admin password, and stores a copy
// as the cache entry.
func (i *instance) initialize(ctx context.Context, s *setup, entry string) error {
	s.password = newPassword()
	name, content := i.kind.secret(s.password)
	secret := filepath.Join(i.dir, name)
	if err := os.WriteFile(secret, []byte(content), 0o600); err != nil {
		return err
	}
	defer os.Remove(secret)
	if err := i.as.chown(secret); err != nil {
		return err
	}
	bin := i.in.init
	if bin == "" {
		bin = i.in.server
	}
	logPath := filepath.Join(i.dir, "init.log")
	log, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	if err := i.as.chown(logPath); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, i.kind.initArgs(s)...)
	cmd.Dir = i.dir
	cmd.Env = serverEnv(i.dir)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr(i.as, syscall.SIGKILL)
	// The initializer may be a script running the server in bootstrap mode: stop the
	// whole group, so that no child outlives it and writes into a dir being removed.
	cmd.Cancel = func() error { return signalGroup(cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if cmd.Process != nil && groupAlive(cmd.Process.Pid) {
		killGroup(cmd.Process.Pid)
		waitGroup(cmd.Process.Pid)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w%s", filepath.Base(bin), err, tail(logPath, s.password))
	}
	toCache(ctx, entry, s)
	return nil
}

// run starts the server process on s.port and connects to it. portTaken reports,
// when the server exited before it was ready, that its log says the port was taken.
func (i *instance) run(ctx context.Context, spec engine.Spec, s *setup, ready time.Duration) (_ *scratch.Server, portTaken bool, _ error) {
	logPath := filepath.Join(i.dir, "server.log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, false, err
	}
	if err := i.as.chown(logPath); err != nil {
		log.Close()
		return nil, false, err
	}
	var logStart int64 // this attempt's lines start here
	if st, err := log.Stat(); err == nil {
		logStart = st.Size()
	}
	// The server outlives Start's ctx: only Stop ends it, through procCtx.
	procCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cmd := exec.CommandContext(procCtx, i.in.server, i.kind.serverArgs(s)...)
	cmd.Dir = i.dir
	cmd.Env = serverEnv(i.dir)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr(i.as, i.kind.stop)
	cmd.Cancel = func() error { return cmd.Process.Signal(i.kind.stop) }
	cmd.WaitDelay = 15 * time.Second // then SIGKILL
	if err := cmd.Start(); err != nil {
		cancel()
		log.Close()
		return nil, false, fmt.Errorf("start %s: %w", filepath.Base(i.in.server), err)
	}
	exited := make(chan struct{})
	i.mu.Lock()
	previous := i.cancel // of an attempt that exited early
	i.pid, i.cancel, i.exited, i.reported, i.gone = cmd.Process.Pid, cancel, exited, false, false
	i.mu.Unlock()
	if previous != nil {
		previous()
	}
	pid := cmd.Process.Pid
	go func() {
		err := cmd.Wait()
		log.Close()
		// Children of a server that was killed or crashed may linger in its process
		// group: end them now, while the group id cannot have been reused (a group
		// with members keeps its id).
		if groupAlive(pid) {
			killGroup(pid)
			waitGroup(pid)
		}
		gone := !groupAlive(pid)
		i.mu.Lock()
		i.waitErr, i.gone = err, gone
		i.mu.Unlock()
		close(exited)
	}()

	// Stop waiting as soon as the server exits: it is not going to answer.
	readyCtx, cancelReady := context.WithCancel(ctx)
	defer cancelReady()
	go func() {
		select {
		case <-exited:
			cancelReady()
		case <-readyCtx.Done():
		}
	}()
	srv, err := scratch.Connect(readyCtx, scratch.Config{
		Spec:   spec,
		URL:    i.kind.adminURL(s),
		Stop:   i.stop,
		Exited: i.exitedUnasked,
		Ready:  ready,
	})
	if err == nil {
		return srv, false, nil
	}
	if ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	if i.hasExited() {
		i.mu.Lock()
		werr := i.waitErr
		i.reported = true
		i.mu.Unlock()
		return nil, logSince(logPath, logStart, addrInUse), fmt.Errorf("%s exited before accepting connections: %v%s", filepath.Base(i.in.server), werr, tail(logPath, s.password))
	}
	return nil, false, fmt.Errorf("%w%s", err, tail(logPath, s.password))
}

// logSince reports whether the log at path holds text past offset from.
func logSince(path string, from int64, text string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(io.NewSectionReader(f, from, 1<<20), 1<<20))
	return err == nil && strings.Contains(string(b), text)
}

// exitedUnasked implements engine.Watcher for the server: an error once the server
// process exited without straddle stopping it.
func (i *instance) exitedUnasked() error {
	if !i.hasExited() {
		return nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.stopping {
		return nil
	}
	return fmt.Errorf("%s (pid %d) exited under the run: %v", i.kind.product, i.pid, i.waitErr)
}

// exitedWithError reports whether the server process, once exited, ended with an
// exit status of its own (not 0, not a signal).
func (i *instance) exitedWithError() bool {
	i.mu.Lock()
	werr := i.waitErr
	i.mu.Unlock()
	var ee *exec.ExitError
	return errors.As(werr, &ee) && ee.ExitCode() > 0
}

func (i *instance) hasExited() bool {
	i.mu.Lock()
	exited := i.exited
	i.mu.Unlock()
	select {
	case <-exited:
		return true
	default:
		return false
	}
}

// stop shuts the server down fast (the kind's stop signal, SIGKILL after the wait
// delay), then removes the temp dir. Calling it again is harmless.
func (i *instance) stop(ctx context.Context) error {
	i.mu.Lock()
	cancel, exited, pid := i.cancel, i.exited, i.pid
	i.stopping = true
	i.mu.Unlock()
	var errs []error
	if cancel != nil {
		cancel()
		select {
		case <-exited:
		case <-ctx.Done():
			return fmt.Errorf("stop %s (pid %d): %w", i.kind.product, pid, ctx.Err())
		}
		i.mu.Lock()
		werr, reported, gone := i.waitErr, i.reported, i.gone
		i.mu.Unlock()
		if werr != nil && !reported && !isStopSignal(werr, i.kind.stop) {
			errs = append(errs, fmt.Errorf("%s (pid %d) exited: %v", i.kind.product, pid, werr))
		}
		if !gone {
			errs = append(errs, fmt.Errorf("%s (pid %d): processes left in its group after SIGKILL", i.kind.product, pid))
		}
	}
	if err := engine.RemoveOwned(i.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", i.dir, err))
	}
	return errors.Join(errs...)
}

// waitGroup waits, for a while, until no live process is left in group pgid.
func waitGroup(pgid int) {
	for start := time.Now(); groupAlive(pgid) && time.Since(start) < 5*time.Second; {
		time.Sleep(20 * time.Millisecond)
	}
}

// isStopSignal reports whether a server's exit after straddle asked it to stop is a
// clean one: exec reports a clean exit after Cancel as the context's error, and a
// server that does not catch the signal dies of it.
func isStopSignal(err error, sig syscall.Signal) bool {
	if errors.Is(err, context.Canceled) {
		return true
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

func (i *instance) leftovers() []string {
	exited := i.hasExited() // first: gone is final once the process has exited
	i.mu.Lock()
	pid, gone := i.pid, i.gone
	i.mu.Unlock()
	var left []string
	if pid != 0 && (!exited || !gone) {
		left = append(left, fmt.Sprintf("%s server process group %d (%s)", i.kind.product, pid, i.dir))
	}
	if _, err := os.Stat(i.dir); err == nil {
		left = append(left, "temp dir "+i.dir)
	}
	return left
}

// freePort returns a loopback TCP port nobody listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func newPassword() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// tail returns the end of a server log for an error message, with the password
// scrubbed, or "" when there is none.
func tail(path, password string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 2048
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		_, _ = f.Seek(-max, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	s := strings.TrimSpace(strings.ReplaceAll(string(b), password, "xxxxx"))
	if s == "" {
		return ""
	}
	return "\n" + path + ":\n" + s
}

func isNumeric(v string) bool {
	return v != "" && strings.Trim(v, "0123456789.") == ""
}

// serverEnv is the environment of a server process: ours, with TMPDIR set to the
// server's own dir. The server runs as an unprivileged user, which may not be able
// to write to the TMPDIR straddle was given (InnoDB creates its temp files there).
func serverEnv(dir string) []string {
	env := []string{"TMPDIR=" + dir}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	return env
}

// minMemFree is the free space a memory file system needs before servers go there.
const minMemFree = 1 << 30

// tempRoot is where server dirs go: Config.TempDir, else $TMPDIR, else memory when
// it has room, else the system temp dir.
func (p *Provider) tempRoot() string {
	if p.cfg.TempDir != "" || os.Getenv("TMPDIR") != "" {
		return p.cfg.TempDir
	}
	if m := memDir(minMemFree); m != "" {
		return m
	}
	return ""
}

// tempRoots lists every place tempRoot may have chosen, for Prune.
func (p *Provider) tempRoots() []string {
	if p.cfg.TempDir != "" {
		return []string{p.cfg.TempDir}
	}
	roots := []string{os.TempDir()}
	if m := memDir(0); m != "" && m != os.TempDir() {
		roots = append(roots, m)
	}
	return roots
}
