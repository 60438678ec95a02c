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
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/straddle-dev/straddle/harness/input"
	"github.com/straddle-dev/straddle/harness/plan"
)

// Load reads the queries of a workload source: a query file, a directory of *.sql
// query files (not recursive, in name order), or "git:REV:PATH", the file or
// directory PATH at git revision REV of the repository that contains repoDir ("" is
// the current directory). PATH is relative to repoDir, like a path on the command
// line. Errors about the source or its content wrap plan.ErrBadInput; query names
// must be unique across the files of a source.
func Load(ctx context.Context, src, repoDir string) ([]Query, error) {
	var files []namedSource
	var err error
	if rest, ok := strings.CutPrefix(src, "git:"); ok {
		files, err = gitFiles(ctx, src, rest, repoDir)
	} else {
		files, err = diskFiles(src)
	}
	if err != nil {
		return nil, err
	}
	var all []Query
	defined := map[string]Query{}
	for _, f := range files {
		qs, err := Parse(f.name, f.src)
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			if prev, ok := defined[q.Name]; ok {
				return nil, plan.Errorf(q.File, q.Line, "query %s is already defined at %s:%d; query names must be unique in a workload", q.Name, prev.File, prev.Line)
			}
			defined[q.Name] = q
		}
		all = append(all, qs...)
	}
	if len(all) == 0 {
		return nil, plan.Errorf(src, 0, "no queries; start each query with -- name: NAME [:cmd]")
	}
	return all, nil
}

// namedSource is the content of one query file and the name errors give it.
type namedSource struct {
	name string
	src  []byte
}

func diskFiles(src string) ([]namedSource, error) {
	fi, err := os.Stat(src)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, plan.Errorf(src, 0, "no such file or directory")
		}
		return nil, fmt.Errorf("read queries: %w", err)
	}
	paths := []string{src}
	if fi.IsDir() {
		paths, err = filepath.Glob(filepath.Join(src, "*.sql"))
		if err != nil {
			return nil, fmt.Errorf("read queries: %w", err)
		}
		sort.Strings(paths)
		if len(paths) == 0 {
			return nil, plan.Errorf(src, 0, "no *.sql query files in the directory")
		}
	}
	var out []namedSource
	for _, p := range paths {
		b, err := input.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read queries: %w", err)
		}
		out = append(out, namedSource{p, b})
	}
	return out, nil
}

// gitFiles reads "git:REV:PATH" (rest is "REV:PATH") from the repository of dir.
func gitFiles(ctx context.Context, src, rest, dir string) ([]namedSource, error) {
	rev, p, ok := strings.Cut(rest, ":")
	if !ok || rev == "" || p == "" {
		return nil, plan.Errorf(src, 0, "want git:REV:PATH, e.g. git:v1.2.0:queries/")
	}
	if dir == "" {
		dir = "."
	}
	p = strings.TrimSuffix(path.Clean(filepath.ToSlash(p)), "/")
	if _, err := git(ctx, dir, "rev-parse", "--git-dir"); err != nil {
		if errors.Is(err, exec.ErrNotFound) || ctx.Err() != nil {
			return nil, fmt.Errorf("read %s: %w", src, err)
		}
		return nil, plan.Errorf(src, 0, "%s is not in a git repository: %v", dir, err)
	}
	if _, err := git(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}"); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, plan.Errorf(src, 0, "unknown git revision %q", rev)
	}
	// "REV:./PATH" is relative to the directory git runs in, i.e. dir.
	obj := rev + ":./" + p
	if strings.HasPrefix(p, "../") {
		obj = rev + ":" + p
	}
	typ, err := git(ctx, dir, "cat-file", "-t", obj)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, plan.Errorf(src, 0, "%s does not exist at revision %s", p, rev)
	}
	name := func(file string) string { return "git:" + rev + ":" + file }
	switch strings.TrimSpace(string(typ)) {
	case "blob":
		b, err := git(ctx, dir, "cat-file", "blob", obj)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", src, err)
		}
		return []namedSource{{name(p), b}}, nil
	case "tree":
	default:
		return nil, plan.Errorf(src, 0, "%s is not a file or directory at revision %s", p, rev)
	}
	list, err := git(ctx, dir, "ls-tree", "-z", obj)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", src, err)
	}
	type entry struct{ name, hash string }
	var entries []entry
	for _, rec := range strings.Split(string(list), "\x00") {
		// "<mode> SP <type> SP <object> TAB <file>"
		meta, file, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 || f[1] != "blob" || !strings.HasSuffix(file, ".sql") {
			continue
		}
		entries = append(entries, entry{file, f[2]})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	if len(entries) == 0 {
		return nil, plan.Errorf(src, 0, "no *.sql query files in %s at revision %s", p, rev)
	}
	var out []namedSource
	for _, e := range entries {
		b, err := git(ctx, dir, "cat-file", "blob", e.hash)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", src, err)
		}
		out = append(out, namedSource{name(path.Join(p, e.name)), b})
	}
	return out, nil
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
