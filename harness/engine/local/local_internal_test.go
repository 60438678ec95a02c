//go:build unix

package local

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/scratch"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestVersionMatches(t *testing.T) {
	for _, c := range []struct {
		want, have string
		ok         bool
		reason     string
	}{
		{"", "15.18", true, "no version: whatever is installed"},
		{"latest", "15.18", true, "local cannot fetch latest: the newest installed"},
		{"15", "15.18", true, "major version"},
		{"15.18", "15.18", true, "exact version"},
		{"15.1", "15.18", false, "components, not string prefix"},
		{"16", "15.18", false, "other major"},
		{"10.11", "10.11.19", true, "mariadb major"},
		{"10.11.19.1", "10.11.19", false, "more precise than installed"},
	} {
		assert.Check(t, is.Equal(versionMatches(c.want, c.have), c.ok), "%s vs %s: %s", c.want, c.have, c.reason)
	}
}

func TestCompareVersions(t *testing.T) {
	assert.Check(t, compareVersions("15.18", "15.2") > 0, "numeric, not lexical")
	assert.Check(t, compareVersions("9.6", "10") < 0)
	assert.Check(t, compareVersions("10.11", "10.11.0") == 0)
}

// withInstalls makes p believe exactly ins are installed for fl.
func withInstalls(p *Provider, fl engine.Flavor, ins ...install) *Provider {
	p.found[fl] = ins
	return p
}

func TestAvailableMessages(t *testing.T) {
	pg15 := install{server: "/usr/lib/postgresql/15/bin/postgres", version: "15.18", major: "15"}
	maria := install{server: "/usr/sbin/mariadbd", version: "10.11.19", major: "10.11"}
	for _, c := range []struct {
		name  string
		p     *Provider
		spec  string
		want  string // "" means available
		isErr error
	}{
		{
			name: "postgres-missing",
			p:    withInstalls(New(Config{}), engine.FlavorPostgres),
			spec: "postgres",
			want: "local: PostgreSQL server binaries not found (install postgresql: make deps)",
		},
		{
			name: "mariadb-missing",
			p:    withInstalls(New(Config{}), engine.FlavorMariaDB),
			spec: "mariadb:10.11",
			want: "local: MariaDB server binaries not found (install mariadb-server: make deps)",
		},
		{
			name: "mysql-is-mariadb",
			p:    withInstalls(withInstalls(New(Config{}), engine.FlavorMySQL), engine.FlavorMariaDB, maria),
			spec: "mysql:8.4",
			want: "local: MySQL server binaries not found (/usr/sbin/mariadbd is MariaDB 10.11.19; install mysql-server or use --provider docker for mysql)",
		},
		{
			name: "other-version",
			p:    withInstalls(New(Config{}), engine.FlavorPostgres, pg15),
			spec: "postgres:16",
			want: "local provider has PostgreSQL 15 at /usr/lib/postgresql/15/bin; use --provider docker for postgres:16",
		},
		{
			name: "installed",
			p:    withInstalls(New(Config{}), engine.FlavorPostgres, pg15),
			spec: "postgres:15",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, err := c.p.pick(context.Background(), engine.MustParseSpec(c.spec))
			if c.want == "" {
				assert.NilError(t, err)
				assert.Equal(t, in.server, pg15.server)
				return
			}
			assert.Error(t, err, c.want)
			assert.Check(t, errors.Is(err, engine.ErrNoEngine))
		})
	}
}

func TestDiscoverInstalled(t *testing.T) {
	p := New(Config{})
	for _, fl := range []engine.Flavor{engine.FlavorPostgres, engine.FlavorMariaDB} {
		ins, err := p.installs(context.Background(), fl)
		assert.NilError(t, err)
		if len(ins) == 0 {
			t.Logf("%s: none installed", fl)
			continue
		}
		for _, in := range ins {
			t.Logf("%s %s (major %s): %s, %s", fl, in.version, in.major, in.server, in.init)
			assert.Check(t, filepath.IsAbs(in.server) && filepath.IsAbs(in.init), "%+v", in)
			assert.Check(t, strings.HasPrefix(in.version, in.major+"."), "%+v", in)
		}
	}
	// mysqld is MariaDB on Debian: it must not pass for MySQL.
	mysqls, err := p.installs(context.Background(), engine.FlavorMySQL)
	assert.NilError(t, err)
	marias, err := p.installs(context.Background(), engine.FlavorMariaDB)
	assert.NilError(t, err)
	for _, my := range mysqls {
		for _, ma := range marias {
			assert.Check(t, my.server != ma.server, "%s is MariaDB", my.server)
		}
	}
}

// TestServerProcess checks how the server runs: in its own process group (a Ctrl-C
// typed in the terminal reaches straddle, not the server) and, under root, as an
// unprivileged user.
func TestServerProcess(t *testing.T) {
	for _, s := range []string{"postgres", "mariadb"} {
		t.Run(s, func(t *testing.T) {
			p := New(Config{CacheDir: t.TempDir()})
			spec := engine.MustParseSpec(s)
			if err := p.Available(t.Context(), spec); errors.Is(err, engine.ErrNoEngine) {
				t.Skipf("install %s (make deps): %v", kinds[spec.Flavor].pkg, err)
			}
			srv, err := p.Start(t.Context(), spec)
			assert.NilError(t, err)
			defer srv.Stop(context.Background())

			i := p.started[0]
			pgid, err := syscall.Getpgid(i.pid)
			assert.NilError(t, err)
			assert.Equal(t, pgid, i.pid, "server is not its own process group leader")
			assert.Check(t, pgid != syscall.Getpgrp())
			fi, err := os.Stat("/proc/" + strconv.Itoa(i.pid))
			if err == nil {
				uid := fi.Sys().(*syscall.Stat_t).Uid
				assert.Check(t, uid != 0, "server runs as root")
				if os.Geteuid() != 0 {
					assert.Check(t, is.Equal(int(uid), os.Geteuid()))
				}
			}
			// The DSN works with the password it carries (enginetest checks that), and
			// not without it.
			db, err := srv.CreateDatabase(t.Context())
			assert.NilError(t, err)
			u, err := url.Parse(db.DSN())
			assert.NilError(t, err)
			assert.Equal(t, u.Hostname(), "127.0.0.1")
			u.User = url.User(u.User.Username())
			driver, dsn, err := scratch.DriverDSN(spec.Family(), u.String())
			assert.NilError(t, err)
			conn, err := sql.Open(driver, dsn)
			assert.NilError(t, err)
			defer conn.Close()
			err = conn.PingContext(t.Context())
			assert.Check(t, err != nil, "connected without a password")
		})
	}
}

func dsnPassword(t *testing.T, db engine.Database) string {
	t.Helper()
	u, err := url.Parse(db.DSN())
	assert.NilError(t, err)
	pw, _ := u.User.Password()
	return pw
}

// TestTemplateCache starts servers from a cold cache (initialize, then store), a
// warm one (copy), a broken entry (initialize again) and no cache, and checks each
// serves queries and leaves nothing behind.
func TestTemplateCache(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts a dozen servers")
	}
	for _, s := range []string{"postgres", "mariadb"} {
		t.Run(s, func(t *testing.T) {
			ctx := t.Context()
			spec := engine.MustParseSpec(s)
			p := New(Config{CacheDir: t.TempDir()})
			if err := p.Available(ctx, spec); errors.Is(err, engine.ErrNoEngine) {
				t.Skipf("install %s (make deps): %v", kinds[spec.Flavor].pkg, err)
			}
			in, err := p.pick(ctx, spec)
			assert.NilError(t, err)
			entry := p.cacheEntry(kinds[spec.Flavor], in)

			// use starts a server, checks it answers, stops it, and returns the password
			// it was started with.
			use := func(p *Provider) string {
				srv, err := p.Start(ctx, spec)
				assert.NilError(t, err)
				defer func() { assert.NilError(t, srv.Stop(ctx)) }()
				db, err := srv.CreateDatabase(ctx)
				assert.NilError(t, err)
				conn, err := db.Open(ctx)
				assert.NilError(t, err)
				defer conn.Close()
				_, err = conn.ExecContext(ctx, `CREATE TABLE t (id INT PRIMARY KEY)`)
				assert.NilError(t, err)
				return dsnPassword(t, db)
			}

			cold := use(p)
			stored, err := os.ReadFile(filepath.Join(entry, "password"))
			assert.NilError(t, err, "cold start did not fill the cache")
			assert.Equal(t, strings.TrimSpace(string(stored)), cold)
			fi, err := os.Stat(entry)
			assert.NilError(t, err)
			assert.Equal(t, fi.Mode().Perm(), os.FileMode(0o700))

			warm := use(p)
			assert.Equal(t, warm, cold, "warm start did not copy the cached entry")

			// An entry the server rejects is replaced.
			system := map[engine.Flavor]string{engine.FlavorPostgres: "global", engine.FlavorMariaDB: "mysql"}
			assert.NilError(t, os.RemoveAll(filepath.Join(entry, "data", system[spec.Flavor])))
			rejected := use(p)
			assert.Check(t, rejected != cold, "a damaged entry was used")
			stored, err = os.ReadFile(filepath.Join(entry, "password"))
			assert.NilError(t, err, "the damaged entry was not replaced")
			assert.Equal(t, strings.TrimSpace(string(stored)), rejected)

			// An entry that cannot be copied is ignored.
			assert.NilError(t, os.RemoveAll(filepath.Join(entry, "data")))
			uncopied := use(p)
			assert.Check(t, uncopied != rejected, "an incomplete entry was used")

			fresh := use(New(Config{NoCache: true}))
			assert.Check(t, fresh != cold, "NoCache used the cache")

			left, err := p.Leftovers(ctx)
			assert.NilError(t, err)
			assert.Check(t, is.Len(left, 0), "%v", left)
		})
	}
}
