package dsn_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/dsn"
	"github.com/straddle-dev/straddle/harness/engine/enginetest"
	"github.com/straddle-dev/straddle/harness/engine/local"
	"github.com/straddle-dev/straddle/harness/engine/scratch"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

var hints = map[engine.Flavor]string{
	engine.FlavorPostgres: "install postgresql (make deps)",
	engine.FlavorMariaDB:  "install mariadb-server (make deps)",
}

// maintenance is the database an admin URL names, per family.
var maintenance = map[engine.Family]string{engine.Postgres: "postgres", engine.MySQL: ""}

// existing starts a server the test owns, with the local provider, and returns its
// admin URL: what a CI service container would hand straddle. ok is false, and the
// reason logged, when the binaries are missing.
func existing(t *testing.T, s string) (spec engine.Spec, adminURL string, ok bool) {
	t.Helper()
	spec = engine.MustParseSpec(s)
	p := local.New(local.Config{})
	if err := p.Available(t.Context(), spec); err != nil {
		if errors.Is(err, engine.ErrNoEngine) {
			t.Logf("%s: %v", hints[spec.Flavor], err)
			return spec, "", false
		}
		t.Fatal(err)
	}
	srv, err := p.Start(t.Context(), spec)
	assert.NilError(t, err)
	t.Cleanup(func() { assert.Check(t, srv.Stop(context.Background())) })
	// A scratch database's DSN carries the admin credentials: point it at the
	// maintenance database, and drop the scratch one.
	db, err := srv.CreateDatabase(t.Context())
	assert.NilError(t, err)
	adminURL, err = scratch.WithDatabase(db.DSN(), maintenance[spec.Family()])
	assert.NilError(t, err)
	assert.NilError(t, db.Drop(t.Context()))
	return spec, adminURL, true
}

// mustExist is existing for tests that need the server: it skips without binaries.
func mustExist(t *testing.T, s string) (engine.Spec, string) {
	t.Helper()
	spec, adminURL, ok := existing(t, s)
	if !ok {
		t.Skipf("%s", hints[spec.Flavor])
	}
	return spec, adminURL
}

func adminDB(t *testing.T, f engine.Family, adminURL string) *sql.DB {
	t.Helper()
	driver, d, err := scratch.DriverDSN(f, adminURL)
	assert.NilError(t, err)
	db, err := sql.Open(driver, d)
	assert.NilError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

var listDatabases = map[engine.Family]string{
	engine.Postgres: `SELECT datname FROM pg_database`,
	engine.MySQL:    `SELECT schema_name FROM information_schema.schemata`,
}

func databases(t *testing.T, admin *sql.DB, f engine.Family) []string {
	t.Helper()
	rows, err := admin.QueryContext(t.Context(), listDatabases[f])
	assert.NilError(t, err)
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		assert.NilError(t, rows.Scan(&n))
		names = append(names, n)
	}
	assert.NilError(t, rows.Err())
	return names
}

func scratchOnly(names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, engine.DatabasePrefix) {
			out = append(out, n)
		}
	}
	return out
}

// TestConformance runs the suite through the dsn provider against servers the test
// started, then checks from the outside that each server still runs, that no scratch
// database is left, and that a database straddle did not create survived.
func TestConformance(t *testing.T) {
	ran := 0
	for _, s := range []string{"postgres", "mariadb"} {
		spec, adminURL, ok := existing(t, s)
		if !ok {
			continue
		}
		ran++
		admin := adminDB(t, spec.Family(), adminURL)
		_, err := admin.ExecContext(t.Context(), `CREATE DATABASE app_data`)
		assert.NilError(t, err)

		p, err := dsn.New(adminURL)
		assert.NilError(t, err)
		enginetest.Run(t, p, spec)

		assert.NilError(t, admin.PingContext(t.Context()), "dsn stopped the %s server", s)
		names := databases(t, admin, spec.Family())
		assert.Check(t, is.Len(scratchOnly(names), 0), "scratch databases left on %s: %v", s, scratchOnly(names))
		assert.Check(t, is.Contains(names, "app_data"), "a database straddle did not create is gone from %s", s)
	}
	if ran == 0 {
		t.Skip("install postgresql/mariadb-server (make deps)")
	}
}

func TestImpliedSpec(t *testing.T) {
	for _, c := range []struct {
		url    string
		family engine.Family
		spec   string
	}{
		{"postgres://u:pw@db:5432/postgres", engine.Postgres, "postgres"},
		{"postgresql://u:pw@db/postgres", engine.Postgres, "postgres"},
		{"mysql://root:pw@db:3306/", engine.MySQL, "mysql"},
		{"mariadb://root:pw@db:3306/", engine.MySQL, "mariadb"},
	} {
		p, err := dsn.New(c.url)
		assert.NilError(t, err)
		assert.Check(t, is.Equal(p.Family(), c.family), c.url)
		assert.Check(t, is.Equal(p.Spec(), engine.MustParseSpec(c.spec)), c.url)
	}
}

func TestLeftovers(t *testing.T) {
	spec, adminURL := mustExist(t, "postgres")
	p, err := dsn.New(adminURL)
	assert.NilError(t, err)
	srv, err := p.Start(t.Context(), spec)
	assert.NilError(t, err)
	db, err := srv.CreateDatabase(t.Context())
	assert.NilError(t, err)

	left, err := p.Leftovers(t.Context())
	assert.NilError(t, err)
	assert.Check(t, is.Len(left, 1))
	assert.Check(t, len(left) == 1 && strings.Contains(left[0], db.Name()), "%v", left)
	assert.Check(t, !strings.Contains(strings.Join(left, " "), password(t, adminURL)), "password in %v", left)

	assert.NilError(t, srv.Stop(t.Context()))
	left, err = p.Leftovers(t.Context())
	assert.NilError(t, err)
	assert.Check(t, is.Len(left, 0), "%v", left)
}

func TestSpecMismatch(t *testing.T) {
	t.Run("family", func(t *testing.T) {
		p, err := dsn.New("postgres://u:hunter2secret@127.0.0.1:1/postgres")
		assert.NilError(t, err)
		_, err = p.Start(t.Context(), engine.MustParseSpec("mariadb"))
		assert.ErrorContains(t, err, "is a postgres server, not mariadb")
		assert.Check(t, !strings.Contains(err.Error(), "hunter2secret"), err.Error())
	})
	t.Run("version", func(t *testing.T) {
		spec, adminURL := mustExist(t, "postgres")
		p, err := dsn.New(adminURL)
		assert.NilError(t, err)
		other := engine.Spec{Flavor: spec.Flavor, Version: "9"}
		_, err = p.Start(t.Context(), other)
		assert.ErrorContains(t, err, "not postgres:9")
		srv, err := p.Start(t.Context(), engine.Spec{Flavor: spec.Flavor})
		assert.NilError(t, err)
		defer srv.Stop(context.Background())
		got := srv.Spec().Version
		assert.Assert(t, got != "" && strings.HasPrefix(srv.Version(), got+"."),
			"spec version %q not filled in from server version %s", got, srv.Version())
	})
	t.Run("flavor", func(t *testing.T) {
		_, adminURL := mustExist(t, "mariadb")
		p, err := dsn.New(adminURL)
		assert.NilError(t, err)
		_, err = p.Start(t.Context(), engine.MustParseSpec("mysql"))
		assert.ErrorContains(t, err, "runs mariadb 10.")
		assert.ErrorContains(t, err, "not mysql; use --engine mariadb")
		assert.Check(t, !strings.Contains(err.Error(), password(t, adminURL)), err.Error())
	})
}

func password(t *testing.T, rawURL string) string {
	t.Helper()
	_, rest, _ := strings.Cut(rawURL, "://")
	userinfo, _, _ := strings.Cut(rest, "@")
	_, pw, ok := strings.Cut(userinfo, ":")
	assert.Assert(t, ok && pw != "", "no password in URL")
	return pw
}

// TestNoPasswordInErrors provokes every error a user's URL can cause and checks
// none of them carries the password (STYLE item 9).
func TestNoPasswordInErrors(t *testing.T) {
	const secret = "hunter2secret"
	for _, c := range []struct {
		name string
		url  string
		spec string
	}{
		{"scheme", "http://u:" + secret + "@127.0.0.1/", ""},
		{"driver-dsn", "root:" + secret + "@tcp(127.0.0.1:3306)/app", ""},
		{"no-scheme", "u:" + secret + "@127.0.0.1/app", ""},
		{"bad-port", "postgres://u:" + secret + "@127.0.0.1:port/app", ""},
		{"no-host", "postgres://u:" + secret + "@/postgres", ""},
		{"unparsable", "postgres://u:" + secret + "@[::1/postgres", ""},
		{"refused-postgres", "postgres://u:" + secret + "@127.0.0.1:1/postgres", "postgres"},
		{"refused-mysql", "mysql://u:" + secret + "@127.0.0.1:1/", "mariadb"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := dsn.New(c.url)
			if c.spec == "" {
				assert.Assert(t, err != nil)
				assert.Check(t, !strings.Contains(err.Error(), secret), err.Error())
				return
			}
			assert.NilError(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			_, err = p.Start(ctx, engine.MustParseSpec(c.spec))
			assert.Assert(t, err != nil)
			assert.Check(t, !strings.Contains(err.Error(), secret), err.Error())
		})
	}
	for _, s := range []string{"postgres", "mariadb"} {
		t.Run("wrong-password-"+s, func(t *testing.T) {
			spec, adminURL := mustExist(t, s)
			real := password(t, adminURL)
			wrong := strings.Replace(adminURL, ":"+real+"@", ":"+secret+"@", 1)
			p, err := dsn.New(wrong)
			assert.NilError(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			_, err = p.Start(ctx, spec)
			assert.Assert(t, err != nil)
			t.Log(err)
			assert.Check(t, !strings.Contains(err.Error(), secret), err.Error())
			assert.Check(t, !strings.Contains(err.Error(), real), err.Error())
		})
	}
}

// TestSharedServers: the dsn provider's servers are the user's; no server-wide
// change is allowed on them (engine.OwnsServers), whatever the provider's name.
func TestSharedServers(t *testing.T) {
	p, err := dsn.New("postgres://u:p@127.0.0.1:1/postgres")
	if err != nil {
		t.Fatal(err)
	}
	if engine.OwnsServers(p) {
		t.Error("engine.OwnsServers(dsn provider) = true, want false")
	}
}
