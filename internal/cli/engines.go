package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/auto"
	"github.com/straddle-dev/straddle/harness/engine/docker"
	"github.com/straddle-dev/straddle/harness/engine/dsn"
	"github.com/straddle-dev/straddle/harness/engine/local"
	"github.com/straddle-dev/straddle/harness/engine/scratch"
	"github.com/straddle-dev/straddle/matrix"
)

// Providers lists the --provider values.
var Providers = []string{"auto", "docker", "local", "dsn"}

// defaultEngines run when no --engine is given: one server per family.
var defaultEngines = []string{"postgres", "mariadb"}

// imageVersions are the versions fixtures/images/build.sh builds (make images
// IMAGES=all), which `straddle engines --versions` tries without --engine.
var imageVersions = []string{"postgres:13,15,17,18", "mariadb:10.5,10.11,11.8"}

// engineFlags are the flags every command that starts engines shares.
type engineFlags struct {
	engines  multiFlag
	provider string
	dsns     multiFlag
	images   multiFlag
	stderr   io.Writer
}

func (f *engineFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.engines, "engine", "engine `SPEC` to run on: postgres, postgres:16, mysql:8.4, mariadb:10.11; a list, postgres:13,15,17 (repeatable; default postgres and mariadb)")
	fs.StringVar(&f.provider, "provider", envOr("STRADDLE_PROVIDER", "auto"), "how to get servers: auto, docker, local or dsn ($STRADDLE_PROVIDER)")
	fs.Var(&f.dsns, "dsn", "`URL` of an existing server for --provider dsn: postgres://… or mysql://… (repeatable, one per family; $STRADDLE_DSN)")
	fs.Var(&f.images, "image", "docker image override `FLAVOR=IMAGE`, e.g. postgres=registry.local/postgres:{version} (repeatable; or $STRADDLE_IMAGE_POSTGRES, …)")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// specs parses the --engine values (or the defaults) once, at the edge.
func (f *engineFlags) specs() ([]engine.Spec, error) {
	vals := []string(f.engines)
	if len(vals) == 0 {
		if v := os.Getenv("STRADDLE_ENGINE"); v != "" {
			vals = strings.Split(v, ",")
		} else if len(f.dsns) > 0 || os.Getenv("STRADDLE_DSN") != "" {
			vals = nil // dsn: one engine per URL, below
		} else {
			vals = defaultEngines
		}
	}
	// "postgres:13,15,17" is three engines (matrix.ParseEngines).
	out, err := matrix.ParseEngines(vals)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	return out, nil
}

// build returns the provider the flags ask for and the specs to run.
func (f *engineFlags) build() (engine.Provider, []engine.Spec, error) {
	specs, err := f.specs()
	if err != nil {
		return nil, nil, err
	}
	images := map[engine.Flavor]string{}
	for _, im := range f.images {
		fl, img, ok := strings.Cut(im, "=")
		sp, err := engine.ParseSpec(fl)
		if !ok || err != nil || img == "" {
			return nil, nil, fmt.Errorf("%w: --image %q: want FLAVOR=IMAGE, e.g. postgres=straddle-local/postgres:15", ErrUsage, im)
		}
		images[sp.Flavor] = img
	}
	dk := func() engine.Provider {
		return docker.New(docker.Config{Images: images})
	}
	lc := func() engine.Provider { return local.New(local.Config{}) }
	switch f.provider {
	case "auto":
		notify := func(msg string) {
			if f.stderr != nil {
				fmt.Fprintln(f.stderr, "straddle:", msg)
			}
		}
		return auto.New(auto.Config{Docker: dk(), Local: lc(), Notify: notify}), specs, nil
	case "docker":
		return dk(), specs, nil
	case "local":
		return lc(), specs, nil
	case "dsn":
		urls := []string(f.dsns)
		if len(urls) == 0 && os.Getenv("STRADDLE_DSN") != "" {
			urls = strings.Split(os.Getenv("STRADDLE_DSN"), ",")
		}
		return dsnProviders(urls, specs)
	}
	return nil, nil, fmt.Errorf("%w: --provider %q: want one of %s", ErrUsage, f.provider, strings.Join(Providers, ", "))
}

// byFamily routes each spec to the dsn provider of its family.
type byFamily map[engine.Family]engine.Provider

func (b byFamily) Name() string { return "dsn" }

func (b byFamily) Start(ctx context.Context, spec engine.Spec) (engine.Server, error) {
	p, ok := b[spec.Family()]
	if !ok {
		return nil, fmt.Errorf("%w: no --dsn URL for %s", engine.ErrNoEngine, spec.Family())
	}
	return p.Start(ctx, spec)
}

func dsnProviders(urls []string, specs []engine.Spec) (engine.Provider, []engine.Spec, error) {
	if len(urls) == 0 {
		return nil, nil, fmt.Errorf("%w: --provider dsn needs --dsn URL (postgres://user:password@host:5432/postgres or mysql://root:password@host:3306/)", ErrUsage)
	}
	b := byFamily{}
	var implied []engine.Spec
	for _, u := range urls {
		p, err := dsn.New(u)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: --dsn: %v", ErrUsage, err)
		}
		fam := p.Family()
		if _, dup := b[fam]; dup {
			return nil, nil, fmt.Errorf("%w: --dsn: two URLs for %s; give one per family", ErrUsage, fam)
		}
		b[fam] = p
		implied = append(implied, p.Spec())
	}
	if len(specs) == 0 {
		specs = implied
	}
	return b, specs, nil
}

func runEngines(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "prune" {
		return runPrune(ctx, e, args[1:])
	}
	fs := newFlags(e, "engines")
	var ef engineFlags
	ef.register(fs)
	versions := fs.Bool("versions", false, "start each engine to show its server version (slower); without --engine, every version fixtures/images builds")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *versions && len(ef.engines) == 0 && os.Getenv("STRADDLE_ENGINE") == "" && len(ef.dsns) == 0 && os.Getenv("STRADDLE_DSN") == "" {
		ef.engines = imageVersions
	}
	p, specs, err := ef.build()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tSTATUS")
	for _, name := range []string{"docker", "local"} {
		var prov engine.Provider
		if name == "docker" {
			prov = docker.New(docker.Config{})
		} else {
			prov = local.New(local.Config{})
		}
		for _, sp := range specs {
			status := "available"
			if st, ok := prov.(engine.Starter); ok {
				if err := st.Available(ctx, sp); err != nil {
					status = err.Error()
				}
			}
			fmt.Fprintf(tw, "%s %s\t%s\n", name, sp, status)
		}
	}
	tw.Flush()
	if !*versions {
		fmt.Fprintf(e.stdout, "\n(--versions starts each engine with --provider %s and prints its server version)\n", ef.provider)
		return nil
	}
	fleet := engine.NewFleet(p)
	defer fleet.Stop(ctx)
	fmt.Fprintln(e.stdout)
	tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENGINE\tPROVIDER\tSERVER\tSTART")
	var errs []error
	for _, sp := range specs {
		t0 := time.Now()
		srv, err := fleet.Server(ctx, sp)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintf(tw, "%s\t%s\terror: %v\t\n", sp, p.Name(), err)
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", srv.Spec(), p.Name(), srv.Version(), time.Since(t0).Round(time.Millisecond))
	}
	tw.Flush()
	return errors.Join(errs...)
}

func runPrune(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "engines")
	all := fs.Bool("all", false, "also remove what live runs and other users' runs started (default: only your own dead runs on this host); with --dsn, every scratch database, in use or not")
	var dsns multiFlag
	fs.Var(&dsns, "dsn", "also prune the scratch databases killed runs left on the existing server at `URL` (repeatable): those older than --older-than that no session uses")
	olderThan := fs.Duration("older-than", time.Hour, "with --dsn: keep scratch databases made less than `DURATION` ago")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	// Containers of dead runs (docker), then servers and temp dirs of dead runs
	// (local): what a run killed with SIGKILL could not clean up itself.
	var errs []error
	var removed []string
	dk := docker.New(docker.Config{})
	if dk.Available(ctx, engine.Spec{Flavor: engine.FlavorPostgres}) == nil {
		r, err := dk.Prune(ctx, *all)
		removed, errs = append(removed, r...), append(errs, err)
	}
	r, err := local.New(local.Config{}).Prune(ctx, *all)
	removed, errs = append(removed, r...), append(errs, err)
	for _, r := range removed {
		fmt.Fprintln(e.stdout, "removed", r)
	}
	// The scratch databases killed runs left on existing servers: only where asked.
	n, err := pruneDSN(ctx, e, dsns, *olderThan, *all)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(removed)+n == 0 {
		fmt.Fprintln(e.stdout, "nothing to prune")
	}
	return nil
}

// pruneDSN prunes the scratch databases on existing servers: a run killed before its
// cleanup leaves its straddle_* database behind, and nothing else would remove it.
func pruneDSN(ctx context.Context, e *env, urls []string, olderThan time.Duration, all bool) (removed int, _ error) {
	var errs []error
	for _, u := range urls {
		p, err := dsn.New(u)
		if err != nil {
			return removed, fmt.Errorf("%w: --dsn: %v", ErrUsage, err)
		}
		res, err := p.Prune(ctx, olderThan, all)
		for _, r := range res {
			if r.Removed {
				removed++
				fmt.Fprintf(e.stdout, "removed database %s on %s\n", r.Name, scratch.Redact(u))
			} else {
				fmt.Fprintf(e.stdout, "kept    database %s on %s: %s\n", r.Name, scratch.Redact(u), r.Why)
			}
		}
		if err != nil {
			errs = append(errs, &exitError{err.Error(), errEnvironment})
		}
	}
	return removed, errors.Join(errs...)
}
