package migration

import (
	"os"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine/enginetest"
)

// fleet gives the package's tests real servers, to prove the steps read from
// real projects' directories apply: local PostgreSQL and MariaDB, one each for
// the whole package, started on first use.
var fleet = enginetest.LocalFleet()

func TestMain(m *testing.M) { os.Exit(enginetest.Main(m, fleet)) }
