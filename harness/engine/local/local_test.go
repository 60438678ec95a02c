package local_test

import (
	"context"
	"errors"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/enginetest"
	"github.com/straddle-dev/straddle/harness/engine/local"
)

var hints = map[engine.Flavor]string{
	engine.FlavorPostgres: "install postgresql (make deps)",
	engine.FlavorMariaDB:  "install mariadb-server (make deps)",
	engine.FlavorMySQL:    "install mysql-server (make deps)",
}

// skipUnlessInstalled skips t when p cannot run spec here; only missing binaries skip.
func skipUnlessInstalled(t testing.TB, p *local.Provider, spec engine.Spec) {
	t.Helper()
	if err := p.Available(context.Background(), spec); err != nil {
		if errors.Is(err, engine.ErrNoEngine) {
			t.Skipf("%s: %v", hints[spec.Flavor], err)
		}
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	p := local.New(local.Config{})
	for _, s := range []string{"postgres", "mariadb"} {
		spec := engine.MustParseSpec(s)
		skipUnlessInstalled(t, p, spec)
		enginetest.Run(t, p, spec)
	}
}
