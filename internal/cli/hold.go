package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/straddle-dev/straddle/harness"
	extcmd "github.com/straddle-dev/straddle/harness/command"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
)

// released is set when a Ctrl-C ended a hold (--stop-at, --keep-on-failure,
// repro): the run then ended as asked, not interrupted, and Main keeps the
// verdict's exit code.
var released atomic.Bool

// holdFlags are the flags that stop a run at a boundary and keep its state.
type holdFlags struct {
	stopAt        string // --stop-at BOUNDARY
	keepOnFailure bool   // --keep-on-failure
	dumpSchema    string // --dump-schema DIR
}

func (f *holdFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&f.stopAt, "stop-at", "", "run up to `BOUNDARY` (expand/0002_add_email, or the step's name; baseline), keep the server and the scratch database in that state, print how to connect and the queries failing there, and wait for Ctrl-C; then remove everything as usual")
	fs.BoolVar(&f.keepOnFailure, "keep-on-failure", false, "hold like --stop-at at the first boundary where a required release fails or a step does not apply")
	fs.StringVar(&f.dumpSchema, "dump-schema", "", "write each boundary's schema into `DIR`/ENGINE/NN_PHASE_STEP.sql (pg_dump --schema-only or mariadb-dump --no-data where installed and able, else straddle's normalized catalog)")
}

// active reports whether the flags ask for anything at boundaries.
func (f *holdFlags) active() bool {
	return f.stopAt != "" || f.keepOnFailure || f.dumpSchema != ""
}

// matches reports whether boundary b is the one --stop-at names.
func matchesBoundary(want string, b plan.Boundary) bool {
	return want == b.String() || (b.Phase != plan.Baseline && want == b.Step)
}

// checkStopAt fails when --stop-at names no boundary of the plan.
func (f *holdFlags) checkStopAt(boundaries []string) error {
	if f.stopAt == "" {
		return nil
	}
	for _, b := range boundaries {
		if f.stopAt == b || strings.HasSuffix(b, "/"+f.stopAt) {
			return nil
		}
	}
	return fmt.Errorf("%w: --stop-at %s: the plan has no such boundary (its boundaries: %s)", ErrUsage, f.stopAt, strings.Join(boundaries, ", "))
}

// holder runs the boundary hook of a check: dumps schemas, and holds the state
// at --stop-at (or the first failure) until interrupt is closed.
type holder struct {
	flags     holdFlags
	e         *env
	interrupt <-chan struct{} // closed by Ctrl-C
	holding   atomic.Int32    // holds in progress
	mu        sync.Mutex      // serializes what holds print
}

// hook is harness.CheckConfig.AtBoundary.
func (h *holder) hook(ctx context.Context, b harness.BoundaryState) bool {
	if h.flags.dumpSchema != "" {
		if err := dumpSchema(ctx, h.flags.dumpSchema, b); err != nil {
			h.mu.Lock()
			fmt.Fprintf(h.e.stderr, "straddle: --dump-schema: %v\n", err)
			h.mu.Unlock()
		}
	}
	stop := h.flags.stopAt != "" && matchesBoundary(h.flags.stopAt, b.Boundary)
	if !stop && !(h.flags.keepOnFailure && b.Violated()) {
		return false
	}
	h.holding.Add(1)
	defer h.holding.Add(-1)
	dir, err := os.MkdirTemp("", "straddle-hold-")
	if err != nil {
		fmt.Fprintf(h.e.stderr, "straddle: cannot hold %s at %s: %v\n", b.Engine, b.Boundary, err)
		return true
	}
	defer engine.RemoveOwned(dir)
	// The pid file makes it a leftover `straddle engines prune` removes (with the
	// password files in it) if this process is killed while holding.
	_ = engine.MarkOwner(dir, 0o600)
	connect, err := writeConnection(dir, b.Database)
	if err != nil {
		fmt.Fprintf(h.e.stderr, "straddle: cannot hold %s at %s: %v\n", b.Engine, b.Boundary, err)
		return true
	}
	h.mu.Lock()
	h.printHold(b, dir, connect)
	h.mu.Unlock()
	select {
	case <-h.interrupt:
		released.Store(true)
	case <-ctx.Done():
	}
	h.mu.Lock()
	fmt.Fprintf(h.e.stderr, "straddle: released %s at %s; removing the scratch database\n", b.Engine, b.Boundary)
	h.mu.Unlock()
	return true
}

func (h *holder) printHold(b harness.BoundaryState, dir, connect string) {
	w := h.e.stderr
	state := "applied"
	if b.Failed {
		state = "failed to apply (the database is as its failing statement left it)"
	}
	fmt.Fprintf(w, "straddle: holding %s at %s: step %d of %d %s.\n", b.Engine, b.Boundary, b.Step, b.Steps, state)
	fmt.Fprintf(w, "  connect:  %s\n", connect)
	fmt.Fprintf(w, "  env file: %s (DATABASE_URL and the client variables; mode 0600)\n", filepath.Join(dir, "env"))
	if len(b.Failing) == 0 {
		fmt.Fprintln(w, "  no query failed at this boundary")
	} else {
		fmt.Fprintln(w, "  failing here (paste into the session):")
		for _, f := range b.Failing {
			req := "informational"
			if f.Required {
				req = "required"
			}
			what := f.Code
			if what == "" {
				what = string(f.Kind)
			}
			fmt.Fprintf(w, "    -- %s %s (%s, %s): %s %s\n", f.Release, f.Query, f.Window, req, what, oneLine(f.Message))
			switch {
			case f.SQL != "":
				fmt.Fprintf(w, "    %s\n", oneLine(f.SQL))
			case f.Command != "":
				fmt.Fprintf(w, "    -- run in a shell: (set -a; . %s; %s)\n", filepath.Join(dir, "env"), f.Command)
			}
		}
	}
	fmt.Fprintln(w, "straddle: press Ctrl-C to remove the database and the server.")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// writeConnection writes the files a client needs to reach db into dir (mode
// 0600: the password is in them, never on the terminal) and returns the command
// line that connects.
func writeConnection(dir string, db engine.Database) (string, error) {
	vars, err := extcmd.Env(db)
	if err != nil {
		return "", err
	}
	var env strings.Builder
	for _, v := range vars {
		k, val, _ := strings.Cut(v, "=")
		env.WriteString(k + "=" + shellQuote(val) + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "env"), []byte(env.String()), 0o600); err != nil {
		return "", err
	}
	u, err := url.Parse(db.DSN())
	if err != nil {
		return "", fmt.Errorf("database %s: its URL does not parse", db.Name())
	}
	pw, _ := u.User.Password()
	host, port, user := u.Hostname(), u.Port(), u.User.Username()
	switch db.Family() {
	case engine.Postgres:
		if port == "" {
			port = "5432"
		}
		pass := filepath.Join(dir, "pgpass")
		line := strings.Join([]string{pgpassField(host), port, pgpassField(db.Name()), pgpassField(user), pgpassField(pw)}, ":") + "\n"
		if err := os.WriteFile(pass, []byte(line), 0o600); err != nil {
			return "", err
		}
		return fmt.Sprintf("PGPASSFILE=%s psql %s", shellQuote(pass), shellQuote(fmt.Sprintf("host=%s port=%s user=%s dbname=%s", host, port, user, db.Name()))), nil
	case engine.MySQL:
		if port == "" {
			port = "3306"
		}
		cnf := filepath.Join(dir, "my.cnf")
		body := fmt.Sprintf("[client]\nhost=%s\nport=%s\nuser=%s\npassword=%s\nprotocol=tcp\n[mysql]\ndatabase=%s\n[mariadb-client]\ndatabase=%s\n", host, port, user, optionValue(pw), db.Name(), db.Name())
		if err := os.WriteFile(cnf, []byte(body), 0o600); err != nil {
			return "", err
		}
		return "mariadb --defaults-extra-file=" + shellQuote(cnf), nil
	}
	return "", fmt.Errorf("no client for family %q", db.Family())
}

// pgpassField escapes : and \ as a .pgpass line needs.
func pgpassField(s string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(s)
}

// optionValue quotes a value of a MySQL option file.
func optionValue(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dumpSchema writes b's schema into dir/ENGINE/NN_PHASE_STEP.sql: the engine's
// own dump tool's output where it is installed and can read this server, else
// straddle's normalized catalog.
func dumpSchema(ctx context.Context, dir string, b harness.BoundaryState) error {
	sub := filepath.Join(dir, strings.NewReplacer(":", "-", "/", "-").Replace(b.Engine))
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return err
	}
	name := fmt.Sprintf("%02d_%s", b.Boundary.Index, b.Boundary.Phase)
	if b.Boundary.Phase != plan.Baseline {
		name += "_" + b.Boundary.Step
	}
	path := filepath.Join(sub, name+".sql")
	if out, tool, ok := nativeDump(ctx, b.Database); ok {
		return os.WriteFile(path, append([]byte(fmt.Sprintf("-- straddle: %s at %s, dumped by %s\n", b.Engine, b.Boundary, tool)), out...), 0o644)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "-- straddle: %s at %s, straddle's normalized catalog (no dump tool for this server here)\n", b.Engine, b.Boundary)
	if b.Schema == nil {
		s.WriteString("-- the schema could not be read\n")
	}
	for _, o := range b.Schema {
		line := string(o.Kind) + " " + o.Path()
		if o.Detail != "" {
			line += ": " + o.Detail
		}
		s.WriteString(line + "\n")
	}
	return os.WriteFile(path, []byte(s.String()), 0o644)
}

// nativeDump runs pg_dump --schema-only or mariadb-dump --no-data against db
// (credentials in the environment, never in arguments). ok is false when no
// tool is installed or it failed (pg_dump refuses a newer server).
func nativeDump(ctx context.Context, db engine.Database) (out []byte, tool string, ok bool) {
	vars, err := extcmd.Env(db)
	if err != nil {
		return nil, "", false
	}
	var cands [][]string
	switch db.Family() {
	case engine.Postgres:
		for _, p := range toolPaths("pg_dump", "/usr/lib/postgresql/*/bin/pg_dump") {
			cands = append(cands, []string{p, "--schema-only", "--no-owner", "--no-privileges"})
		}
	case engine.MySQL:
		u, err := url.Parse(db.DSN())
		if err != nil {
			return nil, "", false
		}
		args := []string{"--no-data", "--skip-comments", "--skip-dump-date", "--protocol=tcp", "-h", u.Hostname(), "-P", u.Port(), "-u", u.User.Username(), db.Name()}
		for _, p := range toolPaths("mariadb-dump", "") {
			cands = append(cands, append([]string{p}, args...))
		}
		for _, p := range toolPaths("mysqldump", "") {
			cands = append(cands, append([]string{p}, args...))
		}
	}
	for _, c := range cands {
		cmd := exec.CommandContext(ctx, c[0], c[1:]...)
		cmd.Env = append(os.Environ(), vars...)
		if b, err := cmd.Output(); err == nil {
			return b, filepath.Base(c[0]), true
		}
	}
	return nil, "", false
}

// toolPaths finds a client tool: on PATH, then in glob (newest version first).
func toolPaths(name, glob string) []string {
	var out []string
	if p, err := exec.LookPath(name); err == nil {
		out = append(out, p)
	}
	if glob != "" {
		m, _ := filepath.Glob(glob)
		sort.Sort(sort.Reverse(sort.StringSlice(m)))
		for _, p := range m {
			if len(out) == 0 || out[0] != p {
				out = append(out, p)
			}
		}
	}
	return out
}

// start prepares the hook for a check's boundaries. With --stop-at or
// --keep-on-failure the run gets a context of its own: a Ctrl-C while a state is
// held releases the hold (the run then ends there and reports as usual) instead
// of cancelling the run; a Ctrl-C at any other time cancels it as usual. h is nil
// when no flag asks for the hook; release frees what start set up.
func (f *holdFlags) start(ctx context.Context, e *env) (run context.Context, h *holder, release func()) {
	if !f.active() {
		return ctx, nil, func() {}
	}
	interrupt := make(chan struct{})
	h = &holder{flags: *f, e: e, interrupt: interrupt}
	if f.stopAt == "" && !f.keepOnFailure {
		return ctx, h, func() {}
	}
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		close(interrupt)
		if h.holding.Load() == 0 {
			cancel()
		}
	})
	return run, h, func() { stop(); cancel() }
}
