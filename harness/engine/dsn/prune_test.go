package dsn_test

import (
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/dsn"
	"github.com/straddle-dev/straddle/harness/engine/scratch"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestPrune leaves on a server what killed runs leave — scratch databases old and
// young, one still in use, one named by an older straddle — next to a database of
// the user's, and checks that prune drops only the old unused scratch database, and
// with all every scratch database but never the user's.
func TestPrune(t *testing.T) {
	for _, eng := range []string{"postgres", "mariadb"} {
		t.Run(eng, func(t *testing.T) {
			spec, adminURL := mustExist(t, eng)
			f := spec.Family()
			admin := adminDB(t, f, adminURL)
			q := map[engine.Family]string{engine.Postgres: `"`, engine.MySQL: "`"}[f]
			create := func(name string) string {
				_, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+q+name+q)
				assert.NilError(t, err)
				t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + q + name + q) })
				return name
			}
			at := func(ago time.Duration, n int) string {
				return fmt.Sprintf("%s%08x%08x", engine.DatabasePrefix, uint32(time.Now().Add(-ago).Unix()), n)
			}
			old := create(at(2*time.Hour, 1))
			young := create(at(time.Minute, 2))
			busy := create(at(3*time.Hour, 3))
			legacy := create(engine.DatabasePrefix + "0123456789ab")
			mine := create("users_own_db")
			born, ok := scratch.NameTime(old)
			assert.Assert(t, ok)
			assert.Assert(t, time.Since(born) > 119*time.Minute && time.Since(born) < 121*time.Minute, "%v", born)

			// A live run: a session in its scratch database.
			u, err := scratch.WithDatabase(adminURL, busy)
			assert.NilError(t, err)
			driver, d, err := scratch.DriverDSN(f, u)
			assert.NilError(t, err)
			live, err := sql.Open(driver, d)
			assert.NilError(t, err)
			conn, err := live.Conn(t.Context())
			assert.NilError(t, err)
			assert.NilError(t, conn.PingContext(t.Context()))

			p, err := dsn.New(adminURL)
			assert.NilError(t, err)
			res, err := p.Prune(t.Context(), time.Hour, false)
			assert.NilError(t, err)
			got := map[string]dsn.Pruned{}
			for _, r := range res {
				got[r.Name] = r
			}
			assert.Check(t, got[old].Removed, "%+v", got[old])
			for _, n := range []string{young, busy, legacy} {
				assert.Check(t, !got[n].Removed && got[n].Why != "", "%s: %+v", n, got[n])
			}
			assert.Check(t, is.Contains(got[busy].Why, "in use"))
			assert.Check(t, is.Contains(got[young].Why, "--older-than"))
			assert.Check(t, is.Contains(got[legacy].Why, "--all"))
			_, listed := got[mine]
			assert.Check(t, !listed, "prune looked at a database not straddle's")
			left := databases(t, admin, f)
			assert.Check(t, !slices.Contains(left, old))
			for _, n := range []string{young, busy, legacy, mine} {
				assert.Check(t, slices.Contains(left, n), "%s dropped", n)
			}

			// all: every scratch database, the busy one too; never the user's.
			conn.Close()
			live.Close()
			_, err = p.Prune(t.Context(), time.Hour, true)
			assert.NilError(t, err)
			left = databases(t, admin, f)
			assert.Check(t, is.DeepEqual(scratchOnly(left), []string(nil)))
			assert.Check(t, slices.Contains(left, mine))
		})
	}
}
