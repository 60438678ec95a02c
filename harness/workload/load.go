package workload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/straddle-dev/straddle/harness/input"
	"github.com/straddle-dev/straddle/harness/plan"
)

// Load reads the queries of a workload source: a query file, a directory of *.sql
// query files (not recursive, in name order), sqlc-generated Go code (a *.go file,
// or a directory of them: the *.sql.go files, copyfrom.go and batch.go sqlc
// writes), or a sqlc config (sqlc.yaml, sqlc.yml or sqlc.json, versions 1 and 2,
// or any *.yaml, *.yml or *.json file, as sqlc -f reads one),
// whose query files are read with the engine it names. Each may be given as
// "git:REV:PATH", the file or directory PATH at git revision REV of the
// repository that contains repoDir ("" is the current directory). PATH is
// relative to repoDir, like a path on the command line. Errors about the source
// or its content wrap plan.ErrBadInput; query names must be unique across the
// files of a source.
func Load(ctx context.Context, src, repoDir string) ([]Query, error) {
	var t fileTree
	p := src
	if rest, ok := strings.CutPrefix(src, "git:"); ok {
		g, gp, err := openGit(ctx, src, rest, repoDir)
		if err != nil {
			return nil, err
		}
		t, p = g, gp
	} else {
		t = diskTree{}
	}
	all, err := loadTree(ctx, t, src, p)
	if err != nil {
		return nil, err
	}
	// A name is defined once per family: a sqlc config's postgresql and mysql
	// packages have the same queries, each for its family.
	defined := map[string][]Query{}
	for _, q := range all {
		for _, prev := range defined[q.Name] {
			if prev.Family == "" || q.Family == "" || prev.Family == q.Family {
				return nil, plan.Errorf(q.File, q.Line, "query %s is already defined at %s:%d; query names must be unique in a workload", q.Name, prev.File, prev.Line)
			}
		}
		defined[q.Name] = append(defined[q.Name], q)
	}
	if len(all) == 0 {
		return nil, plan.Errorf(src, 0, "no queries; start each query with -- name: NAME [:cmd]")
	}
	return all, nil
}

// sqlcConfigs are the names sqlc looks for its config under. A directory that
// holds one is a sqlc project, read through its config; else, with sqlc's
// *.sql.go files, its *.go files are generated code; else its *.sql files are
// query files; else its *.go files are generated code.
var sqlcConfigs = []string{"sqlc.yaml", "sqlc.yml", "sqlc.json"}

// isConfigFile reports whether a file named base is YAML or JSON: no query
// file, so a sqlc config under another name (sqlc -f sqlc-mysql.yml).
func isConfigFile(base string) bool {
	for _, ext := range []string{".yaml", ".yml", ".json"} {
		if strings.HasSuffix(strings.ToLower(base), ext) {
			return true
		}
	}
	return false
}

// loadTree reads the source at p of t (src as the user wrote it, for errors).
func loadTree(ctx context.Context, t fileTree, src, p string) ([]Query, error) {
	kind, err := t.kind(ctx, p)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "":
		return nil, t.missing(src, p)
	case "file":
		base := path.Base(filepath.ToSlash(p))
		switch {
		case slices.Contains(sqlcConfigs, base), isConfigFile(base):
			return loadConfig(ctx, t, p) // sqlc -f takes a config of any name
		case strings.HasSuffix(base, ".go"):
			return loadGoCode(ctx, t, []string{p})
		}
		b, err := t.read(ctx, p)
		if err != nil {
			return nil, err
		}
		return Parse(t.display(p), b)
	}
	names, err := t.list(ctx, p)
	if err != nil {
		return nil, err
	}
	var sqlFiles, goFiles []string
	config := ""
	for _, n := range names {
		switch {
		case strings.HasSuffix(n, ".sql"):
			sqlFiles = append(sqlFiles, t.join(p, n))
		case strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go"):
			goFiles = append(goFiles, t.join(p, n))
		case slices.Contains(sqlcConfigs, n) && config == "":
			config = t.join(p, n)
		}
	}
	generated := slices.ContainsFunc(goFiles, func(f string) bool { return strings.HasSuffix(f, ".sql.go") })
	switch {
	case config != "":
		return loadConfig(ctx, t, config) // a sqlc project: its config names the queries and engine
	case generated:
		// sqlc's output beside its query files (sqlc writes queries.sql.go
		// next to queries.sql when both paths are one directory): the
		// generated code is what the binary sends.
		return loadGoCode(ctx, t, goFiles)
	case len(sqlFiles) > 0:
		var all []Query
		for _, f := range sqlFiles {
			b, err := t.read(ctx, f)
			if err != nil {
				return nil, err
			}
			qs, err := Parse(t.display(f), b)
			if err != nil {
				return nil, err
			}
			all = append(all, qs...)
		}
		return all, nil
	case len(goFiles) > 0:
		return loadGoCode(ctx, t, goFiles)
	}
	return nil, t.empty(src, p)
}

// fileTree is where a source's files are read from: the disk, or a git revision.
type fileTree interface {
	// kind returns "file", "dir", or "" when p does not exist.
	kind(ctx context.Context, p string) (string, error)
	read(ctx context.Context, p string) ([]byte, error)
	// list returns the names of the files (not subdirectories) in directory p,
	// sorted.
	list(ctx context.Context, p string) ([]string, error)
	// glob returns the files and directories that pattern (path.Match's syntax
	// in each component, as filepath.Glob) matches, sorted.
	glob(ctx context.Context, pattern string) ([]string, error)
	join(dir, name string) string
	// display is how errors and queries name p.
	display(p string) string
	missing(src, p string) error
	empty(src, p string) error
}

// diskTree reads files from the disk; paths are as given.
type diskTree struct{}

var _ fileTree = diskTree{}

func (diskTree) kind(_ context.Context, p string) (string, error) {
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read queries: %w", err)
	case fi.IsDir():
		return "dir", nil
	}
	return "file", nil
}

func (diskTree) read(_ context.Context, p string) ([]byte, error) {
	b, err := input.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, plan.Errorf(p, 0, "no such file or directory")
	}
	if err != nil {
		return nil, fmt.Errorf("read queries: %w", err)
	}
	return b, nil
}

func (diskTree) list(_ context.Context, p string) ([]string, error) {
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("read queries: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

func (diskTree) glob(_ context.Context, pattern string) ([]string, error) {
	m, err := filepath.Glob(pattern)
	if err != nil {
		return nil, plan.Errorf(pattern, 0, "bad pattern: %v", err)
	}
	return m, nil
}

func (diskTree) join(dir, name string) string { return filepath.Join(dir, name) }
func (diskTree) display(p string) string      { return p }
func (diskTree) missing(src, _ string) error {
	return plan.Errorf(src, 0, "no such file or directory")
}
func (diskTree) empty(src, _ string) error {
	return plan.Errorf(src, 0, "no *.sql query files, sqlc-generated *.go files or sqlc config in the directory")
}

// gitTree reads files at a git revision of the repository of dir.
type gitTree struct {
	dir, rev string
}

var _ fileTree = (*gitTree)(nil)

// openGit checks "git:REV:PATH" (rest is "REV:PATH") against the repository of
// dir and returns its tree and the cleaned PATH.
func openGit(ctx context.Context, src, rest, dir string) (*gitTree, string, error) {
	rev, p, ok := strings.Cut(rest, ":")
	if !ok || rev == "" || p == "" {
		return nil, "", plan.Errorf(src, 0, "want git:REV:PATH, e.g. git:v1.2.0:queries/")
	}
	if dir == "" {
		dir = "."
	}
	p = strings.TrimSuffix(path.Clean(filepath.ToSlash(p)), "/")
	if _, err := git(ctx, dir, "rev-parse", "--git-dir"); err != nil {
		if errors.Is(err, exec.ErrNotFound) || ctx.Err() != nil {
			return nil, "", fmt.Errorf("read %s: %w", src, err)
		}
		return nil, "", plan.Errorf(src, 0, "%s is not in a git repository: %v", dir, err)
	}
	if _, err := git(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}"); err != nil {
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		return nil, "", plan.Errorf(src, 0, "unknown git revision %q", rev)
	}
	return &gitTree{dir: dir, rev: rev}, p, nil
}

// obj names p at the revision: "REV:./PATH" is relative to the directory git
// runs in.
func (g *gitTree) obj(p string) string {
	if strings.HasPrefix(p, "../") {
		return g.rev + ":" + p
	}
	return g.rev + ":./" + p
}

func (g *gitTree) kind(ctx context.Context, p string) (string, error) {
	typ, err := git(ctx, g.dir, "cat-file", "-t", g.obj(p))
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", nil
	}
	switch strings.TrimSpace(string(typ)) {
	case "blob":
		return "file", nil
	case "tree":
		return "dir", nil
	}
	return "", plan.Errorf(g.display(p), 0, "%s is not a file or directory at revision %s", p, g.rev)
}

func (g *gitTree) read(ctx context.Context, p string) ([]byte, error) {
	b, err := git(ctx, g.dir, "cat-file", "blob", g.obj(p))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, plan.Errorf(g.display(p), 0, "%s does not exist at revision %s", p, g.rev)
	}
	return b, nil
}

func (g *gitTree) list(ctx context.Context, p string) ([]string, error) {
	out, err := git(ctx, g.dir, "ls-tree", "-z", g.obj(p))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", g.display(p), err)
	}
	var names []string
	for _, rec := range strings.Split(string(out), "\x00") {
		// "<mode> SP <type> SP <object> TAB <file>"
		meta, file, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 || f[1] != "blob" {
			continue
		}
		names = append(names, file)
	}
	sort.Strings(names)
	return names, nil
}

func (g *gitTree) glob(ctx context.Context, pattern string) ([]string, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, plan.Errorf(g.display(pattern), 0, "bad pattern: %v", err)
	}
	// The directories before the first component with a wildcard, listed
	// whole, each path matched against the pattern.
	parts := strings.Split(pattern, "/")
	k := 0
	for k < len(parts) && !strings.ContainsAny(parts[k], "*?[]") {
		k++
	}
	prefix := path.Join(parts[:k]...)
	if prefix == "" {
		prefix = "."
	}
	out, err := git(ctx, g.dir, "ls-tree", "-r", "-t", "--name-only", "-z", g.obj(prefix))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, nil // no such directory at the revision: no match
	}
	var matches []string
	for _, rel := range strings.Split(string(out), "\x00") {
		if rel == "" {
			continue
		}
		p := path.Join(prefix, rel)
		if ok, _ := path.Match(path.Clean(pattern), p); ok {
			matches = append(matches, p)
		}
	}
	sort.Strings(matches)
	return matches, nil
}

func (g *gitTree) join(dir, name string) string { return path.Join(dir, name) }
func (g *gitTree) display(p string) string      { return "git:" + g.rev + ":" + p }
func (g *gitTree) missing(src, p string) error {
	return plan.Errorf(src, 0, "%s does not exist at revision %s", p, g.rev)
}
func (g *gitTree) empty(src, p string) error {
	return plan.Errorf(src, 0, "no *.sql query files, sqlc-generated *.go files or sqlc config in %s at revision %s", p, g.rev)
}

// git runs git in dir and returns its standard output; the error carries git's
// standard error.
func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 5 * time.Second
	// Read the repository as it is: no pager, prompts or user config changing the
	// output.
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_PAGER=cat", "GIT_CONFIG_NOSYSTEM=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("git %s: %w: %s", args[0], err, msg)
		}
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	return out, nil
}
