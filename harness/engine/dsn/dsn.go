package dsn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/scratch"
)

// Provider connects to one existing server. Safe for concurrent use; mu protects
// created.
type Provider struct {
	url    string
	family engine.Family
	flavor engine.Flavor // what the scheme names; mysql:// may still be MariaDB

	mu      sync.Mutex
	created []string // scratch databases made through this provider, in order
}

var (
	_ engine.Provider       = (*Provider)(nil)
	_ engine.LeftoverLister = (*Provider)(nil)
)

// New returns a provider for the server at rawURL, an admin URL: its user must be
// allowed to create and drop databases. The URL is checked for form only; nothing is
// contacted before Start.
func New(rawURL string) (*Provider, error) {
	if !strings.Contains(rawURL, "://") {
		// Likely a driver DSN (user:password@tcp(host:3306)/db): not echoed, since
		// nothing here can tell its password apart.
		return nil, fmt.Errorf("dsn: the server address is not a URL: want postgres://user:password@host:port/postgres or mysql://user:password@host:port/")
	}
	f, err := scratch.FamilyOfURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("dsn: server URL %s does not parse", scratch.Redact(rawURL))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("dsn: server URL %s has no host", scratch.Redact(rawURL))
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("dsn: server URL %s: port %q is not a number from 1 to 65535", scratch.Redact(rawURL), port)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("dsn: server URL %s: empty port", scratch.Redact(rawURL))
	}
	fl := engine.FlavorPostgres
	if f == engine.MySQL {
		fl = engine.FlavorMySQL
		if strings.EqualFold(u.Scheme, "mariadb") {
			fl = engine.FlavorMariaDB
		}
	}
	return &Provider{url: rawURL, family: f, flavor: fl}, nil
}

// Name implements engine.Provider.
func (p *Provider) Name() string { return "dsn" }

// SharedServers implements engine.Shared: the servers are the user's.
func (p *Provider) SharedServers() bool { return true }

// Family is the family the URL's scheme names.
func (p *Provider) Family() engine.Family { return p.family }

// Spec is the spec the URL's scheme implies, without a version: postgres for
// postgres://, mysql for mysql://, mariadb for mariadb://. Start checks it against
// the server: a MariaDB server behind a mysql:// URL needs a mariadb spec.
func (p *Provider) Spec() engine.Spec { return engine.Spec{Flavor: p.flavor} }

// Start implements engine.Provider: it connects to the server, waits until it
// answers, and checks it is spec's flavor and, when spec has one, version. The
// returned server's Spec has Version set to the server's major version when spec
// has none.
func (p *Provider) Start(ctx context.Context, spec engine.Spec) (engine.Server, error) {
	where := scratch.Redact(p.url)
	if spec.Family() != p.family {
		return nil, fmt.Errorf("dsn: %s is a %s server, not %s", where, p.family, spec)
	}
	srv, err := scratch.Connect(ctx, scratch.Config{Spec: spec, URL: p.url, Existing: true})
	if err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	v := srv.Version()
	flavor, major := flavorOf(spec.Family(), v)
	var mismatch string
	switch {
	case flavor != spec.Flavor:
		mismatch = fmt.Sprintf("dsn: %s runs %s %s, not %s; use --engine %s", where, flavor, v, spec, flavor)
	case numeric(spec.Version) && v != spec.Version && !strings.HasPrefix(v, spec.Version+"."):
		mismatch = fmt.Sprintf("dsn: %s runs %s %s, not %s", where, flavor, v, spec)
	}
	if mismatch != "" {
		_ = srv.Stop(ctx)
		return nil, errors.New(mismatch)
	}
	if !numeric(spec.Version) {
		spec.Version = major
	}
	return &server{Server: srv, p: p, spec: spec}, nil
}

// Leftovers implements engine.LeftoverLister: the scratch databases created through
// this provider that still exist on the server.
func (p *Provider) Leftovers(ctx context.Context) ([]string, error) {
	p.mu.Lock()
	created := slices.Clone(p.created)
	p.mu.Unlock()
	if len(created) == 0 {
		return nil, nil
	}
	existing, err := p.databases(ctx)
	if err != nil {
		return nil, err
	}
	var left []string
	for _, n := range created {
		if slices.Contains(existing, n) {
			left = append(left, "database "+n+" on "+scratch.Redact(p.url))
		}
	}
	return left, nil
}

// listDatabases is the catalog query naming every database, per family.
var listDatabases = map[engine.Family]string{
	engine.Postgres: `SELECT datname FROM pg_database`,
	engine.MySQL:    `SELECT schema_name FROM information_schema.schemata`,
}

// databases lists the databases on the server, over a connection of its own.
func (p *Provider) databases(ctx context.Context) ([]string, error) {
	driver, dsn, err := scratch.DriverDSN(p.family, p.url)
	if err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("dsn: open %s: %w", scratch.Redact(p.url), err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, listDatabases[p.family])
	if err != nil {
		return nil, fmt.Errorf("dsn: list databases on %s: %w", scratch.Redact(p.url), scrub(err, p.url))
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("dsn: list databases: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dsn: list databases on %s: %w", scratch.Redact(p.url), scrub(err, p.url))
	}
	return names, nil
}

// server is a scratch.Server (Admin included) that records the scratch databases
// it creates, for Leftovers, and knows the version it found. Its Stop never stops
// the server: scratch.Config.Stop is nil.
type server struct {
	*scratch.Server
	p    *Provider
	spec engine.Spec
}

var _ engine.Server = (*server)(nil)

// Spec implements engine.Server: the spec with the server's version filled in.
func (s *server) Spec() engine.Spec { return s.spec }

// CreateDatabase implements engine.Server.
func (s *server) CreateDatabase(ctx context.Context) (engine.Database, error) {
	db, err := s.Server.CreateDatabase(ctx)
	if err != nil {
		return nil, err
	}
	s.p.mu.Lock()
	s.p.created = append(s.p.created, db.Name())
	s.p.mu.Unlock()
	return db, nil
}

// flavorOf tells a server's flavor and major version from its version string:
// "15.18" → postgres 15; "10.11.19-MariaDB" → mariadb 10.11; "8.4.3" → mysql 8.4.
func flavorOf(f engine.Family, version string) (engine.Flavor, string) {
	num, _, _ := strings.Cut(version, "-")
	parts := strings.Split(num, ".")
	if f == engine.Postgres {
		if n, _ := strconv.Atoi(parts[0]); n < 10 && len(parts) > 1 {
			return engine.FlavorPostgres, parts[0] + "." + parts[1]
		}
		return engine.FlavorPostgres, parts[0]
	}
	major := strings.Join(parts[:min(2, len(parts))], ".")
	if strings.Contains(version, "MariaDB") {
		return engine.FlavorMariaDB, major
	}
	return engine.FlavorMySQL, major
}

func numeric(v string) bool {
	return v != "" && strings.Trim(v, "0123456789.") == ""
}

// scrub returns err with the URL and its password masked in its message, its
// chain intact.
func scrub(err error, rawURL string) error {
	return engine.SecretsOf([]string{rawURL}).Wrap(err)
}
