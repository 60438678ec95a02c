package auto_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/auto"
	"github.com/straddle-dev/straddle/harness/engine/docker"
	"github.com/straddle-dev/straddle/harness/engine/enginetest"
	"github.com/straddle-dev/straddle/harness/engine/local"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// noDocker is a docker provider on a machine where the daemon does not answer.
type noDocker struct{ t *testing.T }

func (noDocker) Name() string { return "docker" }
func (d noDocker) Start(context.Context, engine.Spec) (engine.Server, error) {
	d.t.Error("auto started docker although it is unavailable")
	return nil, errors.New("docker unavailable")
}
func (noDocker) Available(context.Context, engine.Spec) error {
	return errors.New("docker: cannot reach the Docker daemon")
}

// counting is a provider that counts its starts: a real provider under another name.
type counting struct {
	engine.Provider
	name   string
	starts atomic.Int32
}

func (c *counting) Name() string { return c.name }
func (c *counting) Start(ctx context.Context, spec engine.Spec) (engine.Server, error) {
	c.starts.Add(1)
	return c.Provider.Start(ctx, spec)
}
func (c *counting) Available(ctx context.Context, spec engine.Spec) error {
	return c.Provider.(engine.Starter).Available(ctx, spec)
}

func skipUnlessInstalled(t *testing.T, p *local.Provider, spec engine.Spec) {
	t.Helper()
	if err := p.Available(t.Context(), spec); err != nil {
		if errors.Is(err, engine.ErrNoEngine) {
			t.Skipf("install postgresql/mariadb-server (make deps): %v", err)
		}
		t.Fatal(err)
	}
}

// TestConformance: without Docker, auto runs the suite on local servers.
func TestConformance(t *testing.T) {
	lp := local.New(local.Config{})
	p := auto.New(auto.Config{Docker: noDocker{t}, Local: lp})
	for _, s := range []string{"postgres", "mariadb"} {
		spec := engine.MustParseSpec(s)
		skipUnlessInstalled(t, lp, spec)
		enginetest.Run(t, p, spec)
	}
}

func TestPrefersDocker(t *testing.T) {
	spec := engine.MustParseSpec("postgres")
	lp := local.New(local.Config{})
	skipUnlessInstalled(t, lp, spec)
	// "docker" here is a local provider under that name: what matters is that auto
	// takes the first available provider.
	dk := &counting{Provider: lp, name: "docker"}
	loc := &counting{Provider: lp, name: "local"}
	p := auto.New(auto.Config{Docker: dk, Local: loc})

	got, err := p.Choose(t.Context(), spec)
	assert.NilError(t, err)
	assert.Equal(t, got.Name(), "docker")
	srv, err := p.Start(t.Context(), spec)
	assert.NilError(t, err)
	assert.NilError(t, srv.Stop(t.Context()))
	assert.Equal(t, dk.starts.Load(), int32(1))
	assert.Equal(t, loc.starts.Load(), int32(0))
}

func TestNoEngine(t *testing.T) {
	for _, c := range []struct {
		name   string
		cfg    func(t *testing.T) auto.Config
		spec   string
		want   []string
		reason string
	}{
		{
			name: "version-not-installed",
			cfg: func(t *testing.T) auto.Config {
				return auto.Config{Docker: noDocker{t}, Local: local.New(local.Config{})}
			},
			spec:   "postgres:99",
			want:   []string{"no engine available for postgres:99", "start Docker", "install postgresql-99", "make deps", "docker: cannot reach the Docker daemon", "local: ", "use --provider docker for postgres:99"},
			reason: "neither provider can run it: both reasons and both fixes",
		},
		{
			name:   "mariadb-nothing-configured",
			cfg:    func(t *testing.T) auto.Config { return auto.Config{} },
			spec:   "mariadb",
			want:   []string{"no engine available for mariadb", "start Docker", "install mariadb-server", "make deps", "docker: not configured", "local: not configured"},
			reason: "the fix names the flavor's package",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := auto.New(c.cfg(t))
			_, err := p.Start(t.Context(), engine.MustParseSpec(c.spec))
			assert.Assert(t, errors.Is(err, engine.ErrNoEngine), "%v", err)
			for _, w := range c.want {
				assert.Check(t, is.Contains(err.Error(), w), c.reason)
			}
			assert.Check(t, !strings.Contains(err.Error(), "\n"), "one line: %q", err)
			assert.Check(t, errors.Is(p.Available(t.Context(), engine.MustParseSpec(c.spec)), engine.ErrNoEngine))
		})
	}
}

// TestNoImageFallsBackToLocal: docker runs but has no image for the engine and
// no registry to pull one from; auto says so and starts the local binaries.
func TestNoImageFallsBackToLocal(t *testing.T) {
	spec := engine.MustParseSpec("postgres")
	lp := local.New(local.Config{})
	skipUnlessInstalled(t, lp, spec)
	dk := docker.New(docker.Config{Images: map[engine.Flavor]string{engine.FlavorPostgres: "straddle-local/no-such-image:0"}})
	if err := dk.Available(t.Context(), spec); err != nil {
		t.Skipf("docker daemon not reachable (make deps starts it): %v", err)
	}
	loc := &counting{Provider: lp, name: "local"}
	var notes []string
	p := auto.New(auto.Config{Docker: dk, Local: loc, Notify: func(m string) { notes = append(notes, m) }})
	srv, err := p.Start(t.Context(), spec)
	assert.NilError(t, err)
	t.Cleanup(func() { assert.Check(t, srv.Stop(context.Background())) })
	assert.Equal(t, loc.starts.Load(), int32(1))
	assert.Assert(t, len(notes) == 1, "%q", notes)
	assert.Check(t, is.Contains(notes[0], "no-such-image"))
	assert.Check(t, is.Contains(notes[0], "using the local binaries instead"))
	left, err := dk.Leftovers(t.Context())
	assert.NilError(t, err)
	assert.Check(t, is.Len(left, 0))
}
