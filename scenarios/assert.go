package scenarios

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// Cell statuses a scenario asserts. fail covers violation and info.
const (
	statusPass      = "pass"
	statusFail      = "fail"
	statusViolation = "violation"
	statusInfo      = "info"
	statusSkip      = "skip"
)

var cellStatuses = []string{statusPass, statusFail, statusViolation, statusInfo, statusSkip}

// failureKinds are the CLASS words that name a kind of failure rather than an
// error class.
var failureKinds = map[string]verdict.Kind{
	"result": verdict.KindResult, "stall": verdict.KindStall,
	// A result that changed between two states, by its code.
	"result-columns": verdict.KindResult, "result-type": verdict.KindResult, "result-value": verdict.KindResult,
}

// parseClass checks a CLASS argument: an engine error class or a failure kind.
func parseClass(s string) error {
	if _, ok := failureKinds[s]; ok {
		return nil
	}
	if _, err := engine.ParseClass(s); err != nil {
		return badf("%v, or result (a wrong result; result-columns, result-type, result-value for a result that changed between states) or stall", err)
	}
	return nil
}

// classOf is how a failure is named in assertions and the cells table: its error
// class, or its kind for results and stalls.
func classOf(f verdict.Failure) string {
	switch f.Kind {
	case verdict.KindResult:
		if f.Code != "" {
			return "result-" + f.Code
		}
		return "result"
	case verdict.KindStall:
		return "stall"
	}
	if f.Class != "" {
		return f.Class
	}
	if f.Code != "" {
		return f.Code
	}
	return "error"
}

// windowFlag defines -when and checks its value.
func windowFlag(fs *flag.FlagSet, w *string) { fs.StringVar(w, "when", "", "") }

func checkWindow(w string) error {
	if w == "" {
		return nil
	}
	return oneOf("-when", w, string(plan.During), string(plan.After))
}

// view is a cell seen through a window filter.
type view struct {
	cell     verdict.Cell
	failures []verdict.Failure
	// notRun is set when the window never ran: the after window of a step that
	// failed to apply.
	notRun bool
}

// viewAt is viewOf for the cell of boundary b: after a step that failed to
// apply nothing ran after it, so its after window is not run, not a pass.
func viewAt(b verdict.Boundary, c verdict.Cell, window string, session ...string) view {
	v := viewOf(c, window, session...)
	v.notRun = window == string(plan.After) && b.Migration.Status == verdict.MigrationFailed
	return v
}

func viewOf(c verdict.Cell, window string, session ...string) view {
	v := view{cell: c}
	for _, f := range c.Failures {
		if len(session) > 0 && session[0] != "" && f.Session != session[0] {
			continue
		}
		if window == "" || string(f.When) == window {
			v.failures = append(v.failures, f)
		}
	}
	return v
}

// status is the view's status word: skip, pass, violation or info.
func (v view) status() string {
	switch {
	case v.cell.Status == verdict.Skip, v.notRun:
		return statusSkip
	case len(v.failures) == 0:
		return statusPass
	}
	for _, f := range v.failures {
		if f.Violation {
			return statusViolation
		}
	}
	return statusInfo
}

// pairs lists the view's failures as sorted, distinct QUERY:CLASS words.
func (v view) pairs() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range v.failures {
		p := f.Query + ":" + classOf(f)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// describe renders the view for a failed assertion's message.
func (v view) describe() string {
	if v.notRun {
		return "skip (the step failed to apply: nothing ran after it)"
	}
	if v.status() == statusSkip {
		r := v.cell.Reason
		if r == "" {
			r = "skipped"
		}
		return "skip (" + r + ")"
	}
	if len(v.failures) == 0 {
		return fmt.Sprintf("pass (%d executions)", v.cell.Executions)
	}
	var parts []string
	for _, f := range v.failures {
		tag := "info"
		if f.Violation {
			tag = "violation"
		}
		msg := strings.Join(strings.Fields(f.Message), " ")
		where := string(f.When)
		if f.Session != "" {
			where += ", " + f.Session
		}
		if f.AfterStatement > 0 {
			where += fmt.Sprintf(", after statement %d", f.AfterStatement)
		}
		if f.Since != "" {
			where += ", since " + f.Since
		}
		parts = append(parts, fmt.Sprintf("%s %s %s (%s, %s): %s", tag, f.Query, classOf(f), f.Code, where, msg))
	}
	return v.status() + ":\n\t\t" + strings.Join(parts, "\n\t\t")
}

// matches reports whether the view has the status and, when class is given, a
// failure of that class (and query); for violation, that failure must be one.
func (v view) matches(status, class, query string) bool {
	got := v.status()
	if status == statusFail {
		if got != statusViolation && got != statusInfo {
			return false
		}
	} else if got != status {
		return false
	}
	if class == "" {
		return true
	}
	for _, f := range v.failures {
		if classOf(f) == class && (query == "" || f.Query == query) && (status != statusViolation || f.Violation) {
			return true
		}
	}
	return false
}

// boundary finds the boundary named name in the run.
func boundary(run verdict.Run, name string) (verdict.Boundary, error) {
	var names []string
	for _, b := range run.Boundaries {
		if b.String() == name {
			return b, nil
		}
		names = append(names, b.String())
	}
	return verdict.Boundary{}, failf("boundary %s was not reached; the rollout has %s", name, strings.Join(names, ", "))
}

// assert turns a match into a command outcome, honouring "!".
func assert(neg, ok bool, what, got string) error {
	switch {
	case ok && neg:
		return failf("%s: want not so, got %s", what, got)
	case !ok && !neg:
		return failf("%s: got %s", what, got)
	}
	return nil
}

func cmdCell(s *Script, neg bool, args []string) error {
	var window, session string
	args, err := parseFlags("cell", args, func(fs *flag.FlagSet) {
		windowFlag(fs, &window)
		fs.StringVar(&session, "session", "", "")
	})
	if err != nil {
		return err
	}
	if err := checkWindow(window); err != nil {
		return err
	}
	if session != "" {
		if err := oneOf("-session", session, "long-lived", "new"); err != nil {
			return err
		}
	}
	if err := nargs(args, 3, 5); err != nil {
		return err
	}
	bname, status := args[0], args[2]
	if err := s.checkBoundary(bname); err != nil {
		return err
	}
	rel, err := plan.ParseRelease(args[1])
	if err != nil {
		return badf("%v", err)
	}
	if err := oneOf("status", status, cellStatuses...); err != nil {
		return err
	}
	var class, query string
	if len(args) > 3 {
		if status == statusPass || status == statusSkip {
			return badf("a %s cell has no failures: drop %s", status, strings.Join(args[3:], " "))
		}
		class = args[3]
		if err := parseClass(class); err != nil {
			return err
		}
	}
	if len(args) > 4 {
		query = args[4]
	}
	if s.dry {
		return nil
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	b, err := boundary(res.Runs[0], bname)
	if err != nil {
		return err
	}
	c := b.Releases.Get(rel)
	if c == nil {
		return failf("cell %s %s: the release has no cell there", bname, rel)
	}
	v := viewAt(b, *c, window, session)
	what := "cell " + strings.Join(args, " ")
	if window != "" {
		what = "cell -when " + window + " " + strings.Join(args, " ")
	}
	if session != "" {
		what = strings.Replace(what, "cell ", "cell -session "+session+" ", 1)
	}
	return assert(neg, v.matches(status, class, query), what, v.describe())
}

func cmdCells(s *Script, _ bool, args []string) error {
	var window string
	args, err := parseFlags("cells", args, func(fs *flag.FlagSet) { windowFlag(fs, &window) })
	if err != nil {
		return err
	}
	if err := checkWindow(window); err != nil {
		return err
	}
	if err := nargs(args, 0, 0); err != nil {
		return err
	}
	if s.dry {
		return nil
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	return writeCells(s.ts.Stdout(), res.Runs[0], window)
}

// writeCells writes one line per boundary and release:
//
//	expand/0002_rename  ok  old  violation  GetUser:undefined-column
//
// aligned in columns, with no timing, code or message, so that the table is the
// same on every engine where the same things break.
func writeCells(w io.Writer, run verdict.Run, window string) error {
	var rows [][]string
	for _, b := range run.Boundaries {
		mig := string(b.Migration.Status)
		if b.Migration.Status == verdict.MigrationFailed && b.Migration.Class != "" {
			mig += ":" + b.Migration.Class
		}
		for _, c := range b.Releases {
			v := viewAt(b, c, window)
			rows = append(rows, []string{b.String(), mig, string(c.Release), v.status(), strings.Join(v.pairs(), " ")})
		}
	}
	widths := make([]int, 5)
	for _, r := range rows {
		for i, f := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(f))
		}
	}
	var sb strings.Builder
	for _, r := range rows {
		var line strings.Builder
		for i, f := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			line.WriteString(f)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(f)))
			}
		}
		sb.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

func cmdVerdict(s *Script, neg bool, args []string) error {
	if err := nargs(args, 1, 1); err != nil {
		return err
	}
	want := args[0]
	if err := oneOf("verdict", want, string(verdict.Compatible), string(verdict.Incompatible), string(verdict.EnvError)); err != nil {
		return err
	}
	if s.dry {
		return nil
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	got := string(res.Verdict)
	if len(res.Violations) > 0 {
		var vs []string
		for _, v := range res.Violations {
			if v.Kind == verdict.KindMigration {
				vs = append(vs, fmt.Sprintf("migration %s %s", v.Boundary(), v.Class))
				continue
			}
			d := fmt.Sprintf("%s %s %s:%s", v.Boundary(), v.Release, v.Query, v.Class)
			if v.Class == "" && v.Message != "" {
				d += " " + strconv.Quote(clip(strings.Join(strings.Fields(v.Message), " "), 120))
			}
			vs = append(vs, d)
		}
		got += " (violations: " + strings.Join(vs, ", ") + ")"
	}
	return assert(neg, string(res.Verdict) == want, "verdict "+want, got)
}

func cmdMigration(s *Script, neg bool, args []string) error {
	if err := nargs(args, 2, 3); err != nil {
		return err
	}
	bname, status := args[0], args[1]
	if err := s.checkBoundary(bname); err != nil {
		return err
	}
	if err := oneOf("status", status, string(verdict.MigrationOK), string(verdict.MigrationFailed), string(verdict.MigrationNotRun)); err != nil {
		return err
	}
	class := ""
	if len(args) == 3 {
		if status != string(verdict.MigrationFailed) {
			return badf("only a failed migration has an error class: drop %s", args[2])
		}
		class = args[2]
		if _, err := engine.ParseClass(class); err != nil {
			return badf("%v", err)
		}
	}
	if s.dry {
		return nil
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	b, err := boundary(res.Runs[0], bname)
	if err != nil {
		return err
	}
	m := b.Migration
	got := string(m.Status)
	if m.Status == verdict.MigrationFailed {
		got = fmt.Sprintf("failed %s (%s): %s", m.Class, m.Code, strings.Join(strings.Fields(m.Message), " "))
	}
	ok := string(m.Status) == status && (class == "" || m.Class == class)
	return assert(neg, ok, "migration "+strings.Join(args, " "), got)
}

func cmdBreaks(s *Script, neg bool, args []string) error {
	if err := nargs(args, 2, 2); err != nil {
		return err
	}
	if args[0] != string(plan.Old) {
		return badf("release %q: only old has a point of no return", args[0])
	}
	want := args[1]
	if want != "never" {
		if err := s.checkBoundary(want); err != nil {
			return err
		}
	}
	if s.dry {
		return nil
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	got := res.Runs[0].OldBreaksAt
	if got == "" {
		got = "never"
	}
	return assert(neg, got == want, "breaks old "+want, got)
}

// clip shortens s to n bytes at most, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
