package local

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
)

// install is one installed server version.
type install struct {
	server  string // absolute path of the server binary, symlinks resolved
	init    string // absolute path of the initializer; "" when server initializes
	version string // "15.18", "10.11.19"
	major   string // "15", "10.11"
}

// dir is where the server binary lives, for messages.
func (in install) dir() string { return filepath.Dir(in.server) }

// notFoundError says a provider cannot run a spec here and how to fix it. It is an
// engine.ErrNoEngine.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return engine.ErrNoEngine }

// installs returns the installations of flavor found on this machine, newest first.
// The result is cached per provider: binaries do not come and go during a run.
func (p *Provider) installs(ctx context.Context, fl engine.Flavor) ([]install, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ins, ok := p.found[fl]; ok {
		return ins, nil
	}
	k, ok := kinds[fl]
	if !ok {
		return nil, fmt.Errorf("local: unknown flavor %q", fl)
	}
	ins, err := discover(ctx, k, p.searchDirs(k))
	if err != nil {
		return nil, err
	}
	p.found[fl] = ins
	return ins, nil
}

// searchDirs lists, in order and without duplicates, Config.Dirs, PATH and the
// product's usual install dirs.
func (p *Provider) searchDirs(k *kind) []string {
	var dirs []string
	dirs = append(dirs, p.cfg.Dirs...)
	dirs = append(dirs, filepath.SplitList(os.Getenv("PATH"))...)
	for _, g := range k.dirs {
		m, _ := filepath.Glob(g)
		slices.Sort(m)
		dirs = append(dirs, m...)
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range dirs {
		if d == "" || seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return out
}

func discover(ctx context.Context, k *kind, dirs []string) ([]install, error) {
	var ins []install
	seen := map[string]bool{}
	for _, d := range dirs {
		for _, name := range k.server {
			path, err := filepath.EvalSymlinks(filepath.Join(d, name))
			if err != nil || seen[path] || !executable(path) {
				continue
			}
			seen[path] = true
			in, ok, err := inspect(ctx, k, path, dirs)
			if err != nil {
				return nil, err
			}
			if ok {
				ins = append(ins, in)
			}
		}
	}
	slices.SortStableFunc(ins, func(a, b install) int { return compareVersions(b.version, a.version) })
	return ins, nil
}

// inspect asks a server binary its version; ok is false when it is another product
// or lacks its initializer.
func inspect(ctx context.Context, k *kind, path string, dirs []string) (in install, ok bool, err error) {
	vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(vctx, path, "--version").Output()
	if err != nil {
		if ctx.Err() != nil {
			return in, false, ctx.Err()
		}
		return in, false, nil // not a runnable server: skip it
	}
	m := k.version.FindSubmatch(out)
	if m == nil || !k.match(string(out)) {
		return in, false, nil
	}
	in = install{server: path, version: string(m[1])}
	in.major = prefix(in.version, k.majorParts(in.version))
	if len(k.init) > 0 {
		// The initializer sits next to the server, in a sibling bin/ (mariadbd lives in
		// sbin/, its install-db script in bin/), or on the search path.
		near := []string{filepath.Dir(path), filepath.Join(filepath.Dir(path), "..", "bin"), filepath.Join(filepath.Dir(path), "..", "scripts")}
		in.init = findBinary(k.init, append(near, dirs...))
		if in.init == "" {
			return in, false, nil
		}
	}
	return in, true, nil
}

func findBinary(names, dirs []string) string {
	for _, d := range dirs {
		for _, n := range names {
			p := filepath.Join(d, n)
			if executable(p) {
				if abs, err := filepath.Abs(p); err == nil {
					return filepath.Clean(abs)
				}
			}
		}
	}
	return ""
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// pick chooses the installation that runs spec: the newest one whose version starts
// with spec's version; any installed one for "", "latest" and "lts".
func (p *Provider) pick(ctx context.Context, spec engine.Spec) (install, error) {
	k, ok := kinds[spec.Flavor]
	if !ok {
		return install{}, fmt.Errorf("local: unknown flavor %q", spec.Flavor)
	}
	ins, err := p.installs(ctx, spec.Flavor)
	if err != nil {
		return install{}, err
	}
	if len(ins) == 0 {
		return install{}, &notFoundError{notFoundMessage(ctx, p, k, spec.Flavor)}
	}
	for _, in := range ins {
		if versionMatches(spec.Version, in.version) {
			return in, nil
		}
	}
	var have []string
	for _, in := range ins {
		have = append(have, in.major+" at "+in.dir())
	}
	return install{}, &notFoundError{fmt.Sprintf("local provider has %s %s; use --provider docker for %s",
		k.product, strings.Join(have, ", "), spec)}
}

func notFoundMessage(ctx context.Context, p *Provider, k *kind, fl engine.Flavor) string {
	msg := fmt.Sprintf("local: %s server binaries not found (install %s: make deps)", k.product, k.pkg)
	if fl == engine.FlavorMySQL {
		// A mysqld that is MariaDB is the usual reason on Debian; say so.
		if ins, err := p.installs(ctx, engine.FlavorMariaDB); err == nil && len(ins) > 0 {
			msg = fmt.Sprintf("local: MySQL server binaries not found (%s is MariaDB %s; install mysql-server or use --provider docker for mysql)", ins[0].server, ins[0].version)
		}
	}
	return msg
}

// versionMatches reports whether installed version have satisfies the spec version
// want: want's dotted components are a prefix of have's ("15" and "15.18" match
// 15.18; "15.1" does not).
func versionMatches(want, have string) bool {
	if want == "" || want == "latest" || want == "lts" {
		return true
	}
	w, h := strings.Split(want, "."), strings.Split(have, ".")
	return len(w) <= len(h) && slices.Equal(w, h[:len(w)])
}

// prefix returns the first n dotted components of v.
func prefix(v string, n int) string {
	parts := strings.Split(v, ".")
	return strings.Join(parts[:min(n, len(parts))], ".")
}

// compareVersions compares dotted numeric versions component by component.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}
