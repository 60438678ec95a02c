package scratch_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/local"
	"github.com/straddle-dev/straddle/harness/engine/scratch"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestDropRefusesForeignDatabases: on a shared server (dsn), every database without
// the scratch prefix belongs to someone else.
func TestDropRefusesForeignDatabases(t *testing.T) {
	for _, s := range []string{"postgres", "mariadb"} {
		t.Run(s, func(t *testing.T) {
			ctx := t.Context()
			spec := engine.MustParseSpec(s)
			p := local.New(local.Config{})
			if err := p.Available(ctx, spec); errors.Is(err, engine.ErrNoEngine) {
				t.Skipf("install postgresql/mariadb-server (make deps): %v", err)
			}
			es, err := p.Start(ctx, spec)
			assert.NilError(t, err)
			defer func() { assert.Check(t, es.Stop(context.Background())) }()
			srv := es.(*scratch.Server)

			for _, name := range []string{"app_data", "straddle", "straddlex_1", "Straddle_1"} {
				_, err := srv.Admin().ExecContext(ctx, "CREATE DATABASE "+engine.DialectOf(spec.Family()).Quote(name))
				assert.NilError(t, err)
				err = srv.DropForTest(ctx, name)
				assert.ErrorContains(t, err, "refusing, not a straddle scratch database")
				// Still there: creating it again fails.
				_, err = srv.Admin().ExecContext(ctx, "CREATE DATABASE "+engine.DialectOf(spec.Family()).Quote(name))
				assert.Check(t, err != nil, "%s was dropped", name)
			}
			assert.NilError(t, srv.DropForTest(ctx, engine.DatabasePrefix+"never_created"), "dropping a missing scratch database")
		})
	}
}

func TestRedact(t *testing.T) {
	const hidden = "(URL not shown: want scheme://user:password@host:port/database)"
	for _, c := range []struct{ url, want string }{
		{"postgres://u:hunter2@127.0.0.1:5432/postgres", "postgres://u:xxxxx@127.0.0.1:5432/postgres"},
		{"mysql://root:hunter2@127.0.0.1:3306/", "mysql://root:xxxxx@127.0.0.1:3306/"},
		{"postgres://u@127.0.0.1/db", "postgres://u@127.0.0.1/db"},
		{"postgres://u:hunter2@[::1/db", hidden},
		// Not URLs: never echoed, a password may sit where Redacted cannot see it.
		{"u:hunter2@h/db", hidden},
		{"root:hunter2@tcp(127.0.0.1:3306)/db", hidden},
	} {
		got := scratch.Redact(c.url)
		assert.Check(t, is.Equal(got, c.want))
		assert.Check(t, !strings.Contains(got, "hunter2"))
	}
}

func TestFamilyOfURL(t *testing.T) {
	for _, c := range []struct {
		url  string
		want engine.Family
		err  string
	}{
		{url: "postgres://h/db", want: engine.Postgres},
		{url: "postgresql://h/db", want: engine.Postgres},
		{url: "mysql://h/", want: engine.MySQL},
		{url: "MariaDB://h/", want: engine.MySQL},
		{url: "http://u:hunter2@h/", err: `server URL scheme "http"`},
	} {
		got, err := scratch.FamilyOfURL(c.url)
		if c.err != "" {
			assert.Check(t, is.ErrorContains(err, c.err))
			assert.Check(t, err == nil || !strings.Contains(err.Error(), "hunter2"), "%v", err)
			continue
		}
		assert.Check(t, err)
		assert.Check(t, is.Equal(got, c.want))
	}
}

func TestDriverDSN(t *testing.T) {
	driver, dsn, err := scratch.DriverDSN(engine.MySQL, "mysql://root:pw@127.0.0.1:3307/straddle_x")
	assert.NilError(t, err)
	assert.Equal(t, driver, "mysql")
	assert.Check(t, is.Contains(dsn, "root:pw@tcp(127.0.0.1:3307)/straddle_x"))
	_, dsn, err = scratch.DriverDSN(engine.MySQL, "mysql://root:pw@db.internal/")
	assert.NilError(t, err)
	assert.Check(t, is.Contains(dsn, "tcp(db.internal:3306)/"), "default port")
	driver, dsn, err = scratch.DriverDSN(engine.Postgres, "postgres://u:pw@h/db")
	assert.NilError(t, err)
	assert.Equal(t, driver, "pgx")
	assert.Equal(t, dsn, "postgres://u:pw@h/db")
}

func TestNameTime(t *testing.T) {
	before := time.Now().Truncate(time.Second)
	n := scratch.NewName()
	born, ok := scratch.NameTime(n)
	assert.Assert(t, ok, n)
	assert.Check(t, !born.Before(before) && !born.After(time.Now()), "%s: %v", n, born)
	assert.Check(t, n != scratch.NewName())
	for _, bad := range []string{"straddle_0123456789ab", "straddle_zz23456789abcdef", "other_0123456789abcdef", ""} {
		_, ok := scratch.NameTime(bad)
		assert.Check(t, !ok, bad)
	}
}
