package enginetest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/local"
)

// LocalFleet returns a fleet of local servers for a package's tests: one server per
// spec, started on first use. Stop it from TestMain with Main.
func LocalFleet() *engine.Fleet {
	return engine.NewFleet(local.New(local.Config{}))
}

// Main runs the package's tests, then stops every server f started:
//
//	func TestMain(m *testing.M) { os.Exit(enginetest.Main(m, fleet)) }
func Main(m *testing.M, f *engine.Fleet) int {
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.Stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "stop servers:", err)
	}
	return code
}

// Database returns a fresh scratch database of spec on f, dropped when the test
// ends. The test is skipped when the provider cannot run spec here (the server
// binaries are not installed: make deps).
func Database(t testing.TB, f *engine.Fleet, spec string) engine.Database {
	t.Helper()
	ctx := context.Background()
	sp := engine.MustParseSpec(spec)
	if st, ok := f.Provider().(engine.Starter); ok {
		if err := st.Available(ctx, sp); err != nil {
			t.Skipf("%s: %v", spec, err)
		}
	}
	srv, err := f.Server(ctx, sp)
	if err != nil {
		t.Fatal(err)
	}
	db, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Drop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return db
}

// Open returns a pool on db, closed when the test ends.
func Open(t testing.TB, db engine.Database) *sql.DB {
	t.Helper()
	pool, err := db.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool
}

// FamilyDatabase is Database on the local provider's server of family fam:
// PostgreSQL, or MariaDB for MySQL.
func FamilyDatabase(t testing.TB, f *engine.Fleet, fam engine.Family) engine.Database {
	t.Helper()
	spec := "postgres"
	if fam == engine.MySQL {
		spec = "mariadb"
	}
	return Database(t, f, spec)
}
