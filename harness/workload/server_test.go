package workload

// TODO(lead): replace this helper with the engine provider's `local` provider
// (initdb/pg_ctl, mariadb-install-db/mariadbd in a temp dir) once it lands; it starts
// the same kind of throwaway server and wraps it with engine/sqlserver, so tests
// only see engine.Server and engine.Database.

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/sqlserver"
)

const installHint = "install postgresql / mariadb-server: make deps"

// testServers holds one throwaway server per family, started on first use and
// stopped by TestMain after every test ran; mu protects the map.
var testServers struct {
	mu      sync.Mutex
	started map[engine.Family]*testServer
}

type testServer struct {
	srv  *sqlserver.Server
	skip string // binaries are missing
	err  error  // binaries are there but the server did not start
}

func TestMain(m *testing.M) {
	code := m.Run()
	testServers.mu.Lock()
	for _, s := range testServers.started {
		if s.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := s.srv.Stop(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "stop test server:", err)
			}
			cancel()
		}
	}
	testServers.mu.Unlock()
	os.Exit(code)
}

// testDatabase returns a fresh scratch database on the throwaway server of family
// f; it is dropped when the test ends. The test is skipped when the server's
// binaries are not installed.
func testDatabase(t *testing.T, f engine.Family) engine.Database {
	t.Helper()
	testServers.mu.Lock()
	if testServers.started == nil {
		testServers.started = map[engine.Family]*testServer{}
	}
	s := testServers.started[f]
	if s == nil {
		s = startServer(f)
		testServers.started[f] = s
	}
	testServers.mu.Unlock()
	switch {
	case s.skip != "":
		t.Skip(s.skip)
	case s.err != nil:
		t.Fatalf("start %s: %v", f, s.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := s.srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Drop(context.Background()); err != nil {
			t.Errorf("drop %s: %v", db.Name(), err)
		}
	})
	return db
}

// openDB opens a pool to db, closed when the test ends.
func openDB(t *testing.T, db engine.Database) *sql.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := db.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool
}

func startServer(f engine.Family) *testServer {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var srv *sqlserver.Server
	var err error
	if f == engine.Postgres {
		srv, err = startPostgres(ctx)
	} else {
		srv, err = startMariaDB(ctx)
	}
	var missing *missingError
	if errors.As(err, &missing) {
		return &testServer{skip: fmt.Sprintf("%s: %v", installHint, err)}
	}
	return &testServer{srv: srv, err: err}
}

type missingError struct{ what string }

func (e *missingError) Error() string { return e.what + " not found" }

// postgresBin returns the directory of the newest installed PostgreSQL's binaries.
func postgresBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", &missingError{"PostgreSQL's initdb"}
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// serverUser is who runs the server: PostgreSQL refuses to run as root, so as root
// it runs as the postgres OS user.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres OS user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func startPostgres(ctx context.Context) (*sqlserver.Server, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	// Under /tmp directly: t.TempDir's parents are 0700 root, which the postgres
	// user cannot traverse.
	dir, err := os.MkdirTemp("", "straddle-workload-pg-")
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	pgctl := func(ctx context.Context, args ...string) error {
		return runAs(ctx, cred, filepath.Join(bin, "pg_ctl"), append([]string{"-D", data}, args...)...)
	}
	stop := func(ctx context.Context) error {
		err := pgctl(ctx, "-m", "immediate", "-w", "stop")
		return errors.Join(err, os.RemoveAll(dir))
	}
	if err := runAs(ctx, cred, filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts := fmt.Sprintf("-c fsync=off -c full_page_writes=off -c listen_addresses=127.0.0.1 -p %d -k %s", port, dir)
	if err := pgctl(ctx, "-w", "-t", "60", "-l", filepath.Join(dir, "log"), "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		stop(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	srv, err := sqlserver.Connect(ctx, sqlserver.Config{
		Spec: engine.MustParseSpec("postgres"),
		URL:  fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		Stop: stop,
	})
	if err != nil {
		stop(context.WithoutCancel(ctx))
		return nil, err
	}
	return srv, nil
}

func startMariaDB(ctx context.Context) (*sqlserver.Server, error) {
	install, err := exec.LookPath("mariadb-install-db")
	if err != nil {
		return nil, &missingError{"mariadb-install-db"}
	}
	mariadbd, err := exec.LookPath("mariadbd")
	if err != nil {
		if mariadbd, err = exec.LookPath("/usr/sbin/mariadbd"); err != nil {
			return nil, &missingError{"mariadbd"}
		}
	}
	dir, err := os.MkdirTemp("", "straddle-workload-mariadb-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := runAs(ctx, nil, install, "--no-defaults", "--datadir="+data, "--auth-root-authentication-method=normal",
		"--user="+u.Username, "--skip-test-db"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(mariadbd, "--no-defaults", "--datadir="+data, "--socket="+filepath.Join(dir, "sock"),
		"--port="+strconv.Itoa(port), "--bind-address=127.0.0.1", "--user="+u.Username,
		"--pid-file="+filepath.Join(dir, "pid"), "--log-error="+filepath.Join(dir, "err.log"),
		"--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=32M",
		"--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0")
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func(ctx context.Context) error {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		return os.RemoveAll(dir)
	}
	srv, err := sqlserver.Connect(ctx, sqlserver.Config{
		Spec:  engine.MustParseSpec("mariadb"),
		URL:   fmt.Sprintf("mysql://root@127.0.0.1:%d/", port),
		Stop:  stop,
		Ready: time.Minute,
	})
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "err.log"))
		stop(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	return srv, nil
}

// runAs runs a command to completion as cred (nil: as the current user).
func runAs(ctx context.Context, cred *syscall.Credential, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(name), err, out.Bytes())
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
