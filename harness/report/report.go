package report

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// Options tunes every renderer.
type Options struct {
	// Timings includes measured durations: migration duration_ms, latency
	// summaries, stall waits. Off in golden files.
	Timings bool
	// Color adds ANSI colors to the text report. Ignored by the other formats.
	Color bool
	// Latency adds, with Timings, a table of every release's executions and
	// latency per boundary, window and query to the text report (latency.go).
	// JSON always has them (with Timings), under each cell's "queries".
	Latency bool
}

// Formats lists the report formats Render knows, in the order help shows them.
var Formats = []string{"text", "json", "junit", "markdown"}

// Render writes r to w in format, one of Formats. An unknown format is an error
// wrapping plan.ErrBadInput (the user's flag was wrong).
func Render(w io.Writer, format string, r *verdict.Result, opts Options) error {
	switch format {
	case "text":
		return Text(w, r, opts)
	case "json":
		return JSON(w, r, opts)
	case "junit":
		return JUnit(w, r, opts)
	case "markdown":
		return Markdown(w, r, opts)
	}
	return fmt.Errorf("unknown report format %q (want %s): %w", format, strings.Join(Formats, ", "), plan.ErrBadInput)
}

// mark is how a cell reads at a glance.
type mark int

const (
	markPass mark = iota
	markViolation
	markInfo // failed, but no failure is a violation
	markSkip
)

func markOf(c verdict.Cell) mark {
	switch {
	case c.Status == verdict.Skip:
		return markSkip
	case c.Violations() > 0:
		return markViolation
	case c.Status == verdict.Fail:
		return markInfo
	}
	return markPass
}

// shown returns the failure a report shows first for a failed cell: its first
// violation, else its first failure.
func shown(c verdict.Cell) (verdict.Failure, bool) {
	// A state probe's finding first: the same in every run, where what traffic
	// met depends on timing.
	for _, f := range c.Failures {
		if f.Violation && f.Session != "" {
			return f, true
		}
	}
	for _, f := range c.Failures {
		if f.Violation {
			return f, true
		}
	}
	for _, f := range c.Failures {
		if f.Session != "" {
			return f, true
		}
	}
	if len(c.Failures) > 0 {
		return c.Failures[0], true
	}
	return verdict.Failure{}, false
}

// when says when a failure happened, relative to the step, and on which kind of
// session a probe met it.
func when(f verdict.Failure) string { return whenAt("", f) }

// whenAt is when for a failure at a boundary of the phase given ("" when
// unknown): the baseline has no step to be after.
func whenAt(phase plan.Phase, f verdict.Failure) string {
	var s string
	switch f.When {
	case plan.Before:
		s = "before the step"
	case plan.During:
		switch {
		case f.AfterStatement > 0:
			s = "after statement " + strconv.Itoa(f.AfterStatement)
			if f.StepStatements > 0 {
				s += " of " + strconv.Itoa(f.StepStatements)
			}
			s += " (committed on its own)"
		case f.Statement > 0:
			s = "during statement " + strconv.Itoa(f.Statement)
		default:
			s = "during the step"
		}
	case plan.After:
		s = "after the step"
		if phase == plan.Baseline {
			s = "at the baseline"
		}
	default:
		s = string(f.When)
	}
	if w := sessionWords(f.Session); w != "" {
		s += ", " + w
	}
	return s
}

// sessionWords names a probe's session for people.
func sessionWords(s string) string {
	switch s {
	case "long-lived":
		return "long-lived session"
	case "new":
		return "new connection"
	}
	return s
}

// describe describes a failure in one line, without its place: "42703
// undefined-column: column "name" does not exist".
func describe(f verdict.Failure, timings bool) string {
	var b strings.Builder
	switch f.Kind {
	case verdict.KindStall:
		b.WriteString("stalled")
		if timings && f.WaitMS != nil {
			b.WriteString(" " + millis(*f.WaitMS))
		}
		if f.Holder != "" {
			b.WriteString(" waiting for " + oneLine(f.Holder))
		}
		return b.String()
	case verdict.KindResult:
		b.WriteString("wrong result")
		if f.Code != "" {
			b.WriteString(" (" + f.Code + ")")
		}
	default:
		b.WriteString(f.Code)
		if f.Class != "" {
			if b.Len() > 0 {
				b.WriteString(" ")
			}
			b.WriteString(f.Class)
		}
		if b.Len() == 0 {
			b.WriteString("error")
		}
	}
	if f.Message != "" {
		b.WriteString(": " + oneLine(f.Message))
	}
	return b.String()
}

// qualifier says why a failure is not a violation, or "".
func qualifier(f verdict.Failure) string {
	switch {
	case f.Violation && f.Since != "":
		// It failed where its release was not required yet.
		return "failing since " + f.Since + ", required from here on"
	case f.Violation:
		return ""
	case f.Workload:
		return "fails where its release first runs: a workload problem"
	case f.Since != "" && f.Required:
		return "still failing since " + f.Since + ", not a new break"
	case f.Transient:
		return "transient, not a violation"
	case f.Kind == verdict.KindStall && f.Required:
		return "warning, not a violation" // the stall policy says so
	}
	return "informational"
}

// migrationWhat describes a failed migration in one line.
func migrationWhat(m verdict.Migration) string {
	var b strings.Builder
	b.WriteString(m.Code)
	if m.Class != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(m.Class)
	}
	if m.Message != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(oneLine(m.Message))
	}
	return b.String()
}

func migrationWhere(m verdict.Migration) string {
	switch {
	case m.Statement > 0 && m.Location != "":
		return "at statement " + strconv.Itoa(m.Statement) + " (" + m.Location + ")"
	case m.Statement > 0:
		return "at statement " + strconv.Itoa(m.Statement)
	}
	return ""
}

// millis renders a duration in milliseconds for people: "850µs", "3.1ms", "5.2s".
func millis(ms float64) string {
	switch {
	case ms < 1:
		return strconv.FormatFloat(ms*1000, 'f', 0, 64) + "µs"
	case ms < 1000:
		return strconv.FormatFloat(ms, 'f', -1, 64) + "ms"
	}
	return strconv.FormatFloat(ms/1000, 'f', 1, 64) + "s"
}

// oneLine folds whitespace runs, newlines included, into single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// truncate shortens s to n runes, cutting the middle so both ends (the phase and
// the step's tail) stay readable.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n || n < 3 {
		return s
	}
	r := []rune(s)
	head := (n - 1) / 2
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// releasesOf returns the releases that appear in a run, in report order.
func releasesOf(run verdict.Run) []plan.Release {
	var out []plan.Release
	seen := map[plan.Release]bool{}
	for _, b := range run.Boundaries {
		for _, c := range b.Releases {
			if !seen[c.Release] {
				seen[c.Release] = true
				out = append(out, c.Release)
			}
		}
	}
	if len(out) == 0 {
		out = plan.Releases
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// summary is the verdict line's explanation: "2 violations in 1 of 3 runs".
func summary(r *verdict.Result) string {
	runs := len(r.Runs)
	bad, env := 0, 0
	for _, run := range r.Runs {
		if run.Violations() > 0 {
			bad++
		}
		if run.Error != "" {
			env++
		}
	}
	var parts []string
	if len(r.Violations) > 0 {
		parts = append(parts, fmt.Sprintf("%s in %d of %s", plural(len(r.Violations), "violation", "violations"), bad, plural(runs, "run", "runs")))
	} else {
		parts = append(parts, fmt.Sprintf("no violations in %s", plural(runs, "run", "runs")))
	}
	if env > 0 {
		parts = append(parts, fmt.Sprintf("%s not complete", plural(env, "run did", "runs did")))
	}
	return strings.Join(parts, "; ")
}

// runTitle names a run: "rename_column on postgres:15 (server 15.18)".
func runTitle(run verdict.Run) string {
	var b strings.Builder
	if run.Scenario != "" {
		b.WriteString(run.Scenario + " on ")
	}
	b.WriteString(run.Engine)
	if run.ServerVersion != "" {
		b.WriteString(" (server " + run.ServerVersion + ")")
	}
	return b.String()
}

// breakNote explains Run.OldBreaksAt, or returns "".
func breakNote(run verdict.Run) string {
	if run.OldBreaksAt == "" {
		return ""
	}
	for _, b := range run.Boundaries {
		if b.String() != run.OldBreaksAt {
			continue
		}
		if c := b.Releases.Get(plan.Old); c != nil && c.Violations() > 0 {
			return "while it is still required"
		}
	}
	return "point of no return"
}

func skipReason(c verdict.Cell) string {
	switch c.Reason {
	case verdict.ReasonPolicy:
		return "not run here by policy"
	case verdict.ReasonNotApplied:
		return "step not applied"
	case verdict.ReasonNoExecutions:
		return "no executions"
	}
	return "skipped"
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// stripANSI removes terminal escape sequences (colored command output) for
// formats that are not shown on a terminal.
func stripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }
