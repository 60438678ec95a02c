package local_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/enginetest"
	"github.com/straddle-dev/straddle/harness/engine/local"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
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
	// A cold template cache of its own: the test initializes data directories the
	// way a first run does, and leaves no cache behind.
	p := local.New(local.Config{CacheDir: t.TempDir()})
	for _, s := range []string{"postgres", "mariadb"} {
		spec := engine.MustParseSpec(s)
		skipUnlessInstalled(t, p, spec)
		enginetest.Run(t, p, spec)
	}
}

// TestStartCancelled: a start interrupted (Ctrl-C while initializing or waiting for
// the server) returns the context's error and leaves nothing behind.
func TestStartCancelled(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts a dozen servers")
	}
	for _, s := range []string{"postgres", "mariadb"} {
		t.Run(s, func(t *testing.T) {
			spec := engine.MustParseSpec(s)
			fresh := local.New(local.Config{NoCache: true})
			skipUnlessInstalled(t, fresh, spec)
			// A warm cache makes the later phases (copy, server start) reachable.
			cached := local.New(local.Config{CacheDir: t.TempDir()})
			srv, err := cached.Start(t.Context(), spec)
			assert.NilError(t, err)
			assert.NilError(t, srv.Stop(t.Context()))
			for _, c := range []struct {
				p     *local.Provider
				after time.Duration
			}{
				{fresh, 50 * time.Millisecond}, {fresh, 300 * time.Millisecond},
				{cached, 30 * time.Millisecond}, {cached, 150 * time.Millisecond}, {cached, 400 * time.Millisecond},
			} {
				p, after := c.p, c.after
				ctx, cancel := context.WithTimeout(t.Context(), after)
				t0 := time.Now()
				srv, err := p.Start(ctx, spec)
				cancel()
				t.Logf("cancelled after %s: Start returned after %s: %v", after, time.Since(t0).Round(time.Millisecond), err)
				if err == nil { // a fast machine: fine, but then Stop must clean up
					assert.NilError(t, srv.Stop(t.Context()))
				} else {
					assert.Check(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
				}
				left, err := p.Leftovers(t.Context())
				assert.NilError(t, err)
				assert.Check(t, is.Len(left, 0), "cancelled after %s: %v", after, left)
			}
		})
	}
}
