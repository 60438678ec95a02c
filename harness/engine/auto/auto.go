package auto

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
)

// Config holds the providers auto chooses between, in order of preference. A nil
// provider is skipped.
type Config struct {
	Docker engine.Provider
	Local  engine.Provider
	// Notify, when set, is told when auto stands in with another provider than
	// the one it chose (docker has no image for the engine: local binaries run
	// it), so the user learns which servers were used.
	Notify func(msg string)
}

// Provider picks a provider per spec. Safe for concurrent use when the providers
// it holds are.
type Provider struct {
	cfg Config
}

var (
	_ engine.Provider       = (*Provider)(nil)
	_ engine.Starter        = (*Provider)(nil)
	_ engine.LeftoverLister = (*Provider)(nil)
)

// New returns an auto provider.
func New(cfg Config) *Provider { return &Provider{cfg: cfg} }

// Name implements engine.Provider.
func (p *Provider) Name() string { return "auto" }

// packages names what installs a flavor's server binaries, for the error message.
var packages = map[engine.Flavor]string{
	engine.FlavorPostgres: "postgresql",
	engine.FlavorMariaDB:  "mariadb-server",
	engine.FlavorMySQL:    "mysql-server",
}

// Choose returns the provider Start would use for spec, or an error wrapping
// engine.ErrNoEngine that says why each candidate cannot run it and how to fix that.
func (p *Provider) Choose(ctx context.Context, spec engine.Spec) (engine.Provider, error) {
	var why []string
	for _, c := range []struct {
		name string
		p    engine.Provider
	}{{"docker", p.cfg.Docker}, {"local", p.cfg.Local}} {
		if c.p == nil {
			why = append(why, c.name+": not configured")
			continue
		}
		s, ok := c.p.(engine.Starter)
		if !ok {
			return c.p, nil // cannot tell without starting: try it
		}
		err := s.Available(ctx, spec)
		if err == nil {
			return c.p, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		why = append(why, c.name+": "+strings.TrimPrefix(err.Error(), c.name+": "))
	}
	pkg := packages[spec.Flavor]
	if spec.Flavor == engine.FlavorPostgres && strings.Trim(spec.Version, "0123456789.") == "" && spec.Version != "" {
		pkg += "-" + strings.Split(spec.Version, ".")[0] // Debian and PGDG package each major
	}
	return nil, fmt.Errorf("%w for %s: start Docker, or install %s (make deps) (%s)",
		engine.ErrNoEngine, spec, pkg, strings.Join(why, "; "))
}

// Start implements engine.Provider with the provider Choose picks.
func (p *Provider) Start(ctx context.Context, spec engine.Spec) (engine.Server, error) {
	c, err := p.Choose(ctx, spec)
	if err != nil {
		return nil, err
	}
	srv, err := c.Start(ctx, spec)
	if err == nil || !errors.Is(err, engine.ErrNoImage) || c != p.cfg.Docker || p.cfg.Local == nil || ctx.Err() != nil {
		return srv, err
	}
	// Docker runs, but has no image for the engine and cannot pull one: local
	// binaries stand in where installed.
	if s, ok := p.cfg.Local.(engine.Starter); ok {
		if lerr := s.Available(ctx, spec); lerr != nil {
			return nil, fmt.Errorf("%w; local binaries cannot stand in: %v", err, lerr)
		}
	}
	if p.cfg.Notify != nil {
		p.cfg.Notify(fmt.Sprintf("%s: no docker image (%v); using the local binaries instead", spec, err))
	}
	return p.cfg.Local.Start(ctx, spec)
}

// Available implements engine.Starter: nil when some provider can run spec.
func (p *Provider) Available(ctx context.Context, spec engine.Spec) error {
	_, err := p.Choose(ctx, spec)
	return err
}

// Leftovers implements engine.LeftoverLister: what the providers it holds list.
func (p *Provider) Leftovers(ctx context.Context) ([]string, error) {
	var left []string
	var errs []error
	for _, c := range []engine.Provider{p.cfg.Docker, p.cfg.Local} {
		if l, ok := c.(engine.LeftoverLister); ok {
			got, err := l.Leftovers(ctx)
			left = append(left, got...)
			errs = append(errs, err)
		}
	}
	return left, errors.Join(errs...)
}
