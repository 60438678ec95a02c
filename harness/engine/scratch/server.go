package scratch

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	_ "github.com/straddle-dev/straddle/harness/engine/driver" // drivers and error classifiers
)

// Config describes a running server to wrap.
type Config struct {
	Spec engine.Spec
	// URL is an admin URL (a user that may create databases), with the maintenance
	// database as path (postgres://u:p@127.0.0.1:5432/postgres, mysql://root:p@127.0.0.1:3306/).
	URL string
	// Stop tears down what the provider started; called last by Server.Stop. May be nil.
	Stop func(ctx context.Context) error
	// Exited reports how the server process ended, nil while it runs (see
	// engine.Watcher). May be nil: the server is not watched.
	Exited func() error
	// Existing says the server runs already (the dsn provider): Connect tries once,
	// for at most ExistingTimeout, and a refused connection fails at once instead
	// of being waited out as a server coming up.
	Existing bool
	// Ready bounds how long Connect waits for the server to accept connections.
	// Zero means 60s.
	Ready time.Duration
}

// Server implements engine.Server over an admin connection. Safe for concurrent use;
// mu protects dbs.
type Server struct {
	cfg     Config
	family  engine.Family
	dialect *engine.Dialect
	admin   *sql.DB
	version string

	// template is the PostgreSQL template database scratch databases are cloned
	// from, "" when not used.
	template string

	mu      sync.Mutex
	dbs     map[string]bool // scratch databases created and not yet dropped
	stopped bool
}

var (
	_ engine.Server  = (*Server)(nil)
	_ engine.Watcher = (*Server)(nil)
)

// Exited implements engine.Watcher with Config.Exited.
func (s *Server) Exited() error {
	if s.cfg.Exited == nil {
		return nil
	}
	return s.cfg.Exited()
}

// Connect opens an admin pool to cfg.URL, waits until the server answers a real
// query (not a log line: the robust readiness check for any image), and reads its
// version.
func Connect(ctx context.Context, cfg Config) (*Server, error) {
	f := cfg.Spec.Family()
	driver, dsn, err := DriverDSN(f, cfg.URL)
	if err != nil {
		return nil, err
	}
	admin, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", Redact(cfg.URL), err)
	}
	admin.SetMaxOpenConns(4)
	s := &Server{cfg: cfg, family: f, dialect: engine.DialectOf(f), admin: admin, dbs: map[string]bool{}}
	if err := s.waitReady(ctx); err != nil {
		admin.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	limit := s.cfg.Ready
	if limit == 0 {
		limit = 60 * time.Second
	}
	if s.cfg.Existing {
		limit = ExistingTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 250*time.Millisecond) {
		var v string
		last = s.admin.QueryRowContext(ctx, s.dialect.VersionQuery).Scan(&v)
		if last == nil {
			s.version = trimVersion(v)
			return nil
		}
		// A server that answers with an error (bad password, unknown database) will
		// not change its mind: fail now. Only "starting up" is worth waiting for.
		if de := engine.Classify(last); de != nil && !s.dialect.StartingUp[de.Code] {
			return fmt.Errorf("%s at %s: %w (%s)", s.cfg.Spec, Redact(s.cfg.URL), scrub(last, s.cfg.URL), de.Code)
		}
		if s.cfg.Existing && ctx.Err() == nil {
			return fmt.Errorf("%s at %s: %w", s.cfg.Spec, Redact(s.cfg.URL), scrub(last, s.cfg.URL))
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("%s at %s not ready after %s: %w", s.cfg.Spec, Redact(s.cfg.URL), limit, scrub(last, s.cfg.URL))
			}
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// ExistingTimeout bounds the one connection attempt to a server that runs already
// (Config.Existing): a host that drops packets fails in this time, not the
// driver's or the kernel's.
const ExistingTimeout = 10 * time.Second

// trimVersion keeps "15.18" of "15.18 (Debian 15.18-0+deb12u1)" and
// "10.11.14-MariaDB" of "10.11.14-MariaDB-0+deb12u1".
func trimVersion(v string) string {
	v, _, _ = strings.Cut(v, " ")
	if i := strings.Index(v, "-MariaDB"); i >= 0 {
		return v[:i+len("-MariaDB")]
	}
	return v
}

// scrub returns err with the URL and its password masked in its message, its
// chain intact (engine.Secrets.Wrap).
func scrub(err error, rawURL string) error {
	return engine.SecretsOf([]string{rawURL}).Wrap(err)
}

// Spec implements engine.Server.
func (s *Server) Spec() engine.Spec { return s.cfg.Spec }

// Version implements engine.Server.
func (s *Server) Version() string { return s.version }

// Admin is the admin pool, for provider-specific queries (lock views, prune).
func (s *Server) Admin() *sql.DB { return s.admin }

// NewName returns a fresh scratch database name: the prefix, then 16 hex digits,
// the creation time in Unix seconds (8) and a random part (8). The time lets
// `straddle engines prune --dsn` judge a database's age where the server keeps
// none (MySQL, MariaDB).
func NewName() string {
	return nameAt(time.Now())
}

func nameAt(t time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], uint32(t.Unix()))
	_, _ = rand.Read(b[4:])
	return engine.DatabasePrefix + hex.EncodeToString(b[:])
}

// NameTime returns the creation time NewName put in a scratch database's name;
// false for another name (the 12 random hex digits of straddle before names held
// a time, or not a scratch database at all).
func NameTime(name string) (time.Time, bool) {
	h, ok := strings.CutPrefix(name, engine.DatabasePrefix)
	if !ok || len(h) != 16 {
		return time.Time{}, false
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(binary.BigEndian.Uint32(b[:4])), 0), true
}

// DropScratch drops the scratch database name (DROP DATABASE IF EXISTS; on
// PostgreSQL, with the sessions still in it); it refuses any other name. For
// prune: the server need not have created it.
func (s *Server) DropScratch(ctx context.Context, name string) error {
	return s.drop(ctx, name)
}

// CreateDatabase implements engine.Server.
func (s *Server) CreateDatabase(ctx context.Context) (engine.Database, error) {
	name := NewName()
	u, err := WithDatabase(s.cfg.URL, name)
	if err != nil {
		return nil, err
	}
	// Recorded before CREATE DATABASE: an interrupted or failed create may still
	// have made it on the server, and Stop drops it (DROP DATABASE IF EXISTS).
	s.mu.Lock()
	s.dbs[name] = true
	s.mu.Unlock()
	if err := s.create(ctx, name); err != nil {
		if derr := s.drop(context.WithoutCancel(ctx), name); derr != nil {
			return nil, errors.Join(err, derr)
		}
		return nil, err
	}
	return &Database{server: s, name: name, url: u}, nil
}

func (s *Server) create(ctx context.Context, name string) error {
	q := fmt.Sprintf(s.dialect.CreateDatabase, s.dialect.Quote(name))
	if s.family == engine.Postgres {
		tmpl, err := s.pgTemplate(ctx)
		if err != nil {
			return err
		}
		q += " TEMPLATE " + s.dialect.Quote(tmpl)
	}
	if _, err := s.admin.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create database %s: %w", name, scrub(err, s.cfg.URL))
	}
	return nil
}

// pgTemplate returns template0: cloning it with the default strategy is the fastest
// way to a clean database on an idle server (see BenchmarkCreateDatabase).
func (s *Server) pgTemplate(ctx context.Context) (string, error) {
	return "template0", nil
}

// drop drops a scratch database; it refuses any other name.
func (s *Server) drop(ctx context.Context, name string) error {
	if !strings.HasPrefix(name, engine.DatabasePrefix) {
		return fmt.Errorf("drop database %q: refusing, not a straddle scratch database", name)
	}
	q := fmt.Sprintf(s.dialect.DropDatabase, s.dialect.Quote(name))
	if _, err := s.admin.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("drop database %s: %w", name, scrub(err, s.cfg.URL))
	}
	s.mu.Lock()
	delete(s.dbs, name)
	s.mu.Unlock()
	return nil
}

// Stop implements engine.Server: it drops the scratch databases still alive, closes
// the admin pool, then runs the provider's teardown. Calling it twice is harmless.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	var names []string
	for n := range s.dbs {
		names = append(names, n)
	}
	s.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, n := range names {
		if err := s.drop(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.admin.Close())
	if s.cfg.Stop != nil {
		errs = append(errs, s.cfg.Stop(ctx))
	}
	return errors.Join(errs...)
}

// Database implements engine.Database.
type Database struct {
	server *Server
	name   string
	url    string
}

var (
	_ engine.Database      = (*Database)(nil)
	_ engine.BindingOpener = (*Database)(nil)
)

func (d *Database) Name() string          { return d.name }
func (d *Database) Family() engine.Family { return d.server.family }
func (d *Database) ServerVersion() string { return d.server.version }
func (d *Database) DSN() string           { return d.url }

// Open implements engine.Database.
func (d *Database) Open(ctx context.Context) (*sql.DB, error) {
	driver, dsn, err := DriverDSN(d.server.family, d.url)
	if err != nil {
		return nil, err
	}
	return d.open(ctx, driver, dsn)
}

// OpenBinding implements engine.BindingOpener.
func (d *Database) OpenBinding(ctx context.Context, b engine.Binding) (*sql.DB, error) {
	driver, dsn, err := BindingDSN(d.server.family, d.url, b)
	if err != nil {
		return nil, err
	}
	return d.open(ctx, driver, dsn)
}

func (d *Database) open(ctx context.Context, driver, dsn string) (*sql.DB, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", d.name, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", d.name, scrub(err, d.url))
	}
	return db, nil
}

// Drop implements engine.Database.
func (d *Database) Drop(ctx context.Context) error {
	return d.server.drop(context.WithoutCancel(ctx), d.name)
}
