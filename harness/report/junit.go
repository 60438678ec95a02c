package report

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"

	"github.com/straddle-dev/straddle/harness/verdict"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

// junitText is element text kept readable (newlines and quotes as they are) in a
// CDATA section.
type junitText struct {
	Text string `xml:",cdata"`
}

func newJUnitText(s string) *junitText { return &junitText{Text: xmlSafe(s)} }

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// JUnit writes r as JUnit XML for CI test viewers (Jenkins, GitLab, GitHub test
// reporters): one <testsuite> per run, named "scenario engine"; per boundary one
// <testcase> for the migration step ("expand/0002_rename_name migration") and one
// per release ("expand/0002_rename_name old"), all with classname
// "straddle.<engine>" (dots in the engine become underscores, because viewers
// split the class name at its last dot). A violation is a <failure>, a cell that
// did not run is <skipped>, informational failures are <system-out> of a passing
// testcase, and a run's environment failure is an <error> testcase "environment".
// Each phase rule hit is a testcase "rule RULE BOUNDARY OBJECT", a <failure> when
// it fails --rules error.
// With opts.Timings the migration testcases carry their time in seconds.
func JUnit(w io.Writer, r *verdict.Result, opts Options) error {
	out := junitSuites{Name: "straddle", Suites: []junitSuite{}}
	for _, run := range r.Runs {
		s := junitRun(run, r.Rules, opts)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitRun(run verdict.Run, rules []verdict.RuleHit, opts Options) junitSuite {
	name := run.Engine
	if run.Scenario != "" {
		name = run.Scenario + " " + run.Engine
	}
	class := "straddle." + strings.ReplaceAll(run.Engine, ".", "_")
	s := junitSuite{Name: name}
	for _, p := range [][2]string{
		{"engine", run.Engine},
		{"server_version", run.ServerVersion},
		{"old_breaks_at", run.OldBreaksAt},
	} {
		if p[1] != "" {
			s.Properties = append(s.Properties, junitProperty{Name: p[0], Value: p[1]})
		}
	}
	for _, n := range run.Notes {
		s.Properties = append(s.Properties, junitProperty{Name: "note", Value: xmlSafe(oneLine(n))})
	}
	if run.Error != "" {
		s.Cases = append(s.Cases, junitCase{Name: "environment", Classname: class,
			Error: &junitProblem{Message: oneLine(run.Error), Type: "environment", Body: xmlSafe(run.Error)}})
	}
	for _, b := range run.Boundaries {
		s.Cases = append(s.Cases, junitMigration(b, class, opts))
		for _, c := range b.Releases {
			s.Cases = append(s.Cases, junitCell(b, c, class, opts))
		}
	}
	s.Cases = append(s.Cases, junitRules(run, rules, class)...)
	for _, c := range s.Cases {
		s.Tests++
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	return s
}

func junitMigration(b verdict.Boundary, class string, opts Options) junitCase {
	m := b.Migration
	tc := junitCase{Name: b.String() + " migration", Classname: class}
	if opts.Timings && m.DurationMS != nil {
		tc.Time = strconv.FormatFloat(*m.DurationMS/1000, 'f', 3, 64)
	}
	switch m.Status {
	case verdict.MigrationFailed:
		msg := "migration failed"
		if where := migrationWhere(m); where != "" {
			msg += " " + where
		}
		if s := migrationWhat(m); s != "" {
			msg += ": " + s
		}
		body := msg + "\n"
		if m.SQL != "" {
			body += m.SQL + "\n"
		}
		body += junitOutput(m.Output)
		tc.Failure = &junitProblem{Message: msg, Type: string(verdict.KindMigration), Body: xmlSafe(body)}
	case verdict.MigrationNotRun:
		tc.Skipped = &junitSkipped{Message: "step not applied"}
	}
	return tc
}

func junitCell(b verdict.Boundary, c verdict.Cell, class string, opts Options) junitCase {
	tc := junitCase{Name: b.String() + " " + string(c.Release), Classname: class}
	switch markOf(c) {
	case markSkip:
		tc.Skipped = &junitSkipped{Message: skipReason(c)}
	case markViolation:
		f, _ := shown(c)
		tc.Failure = &junitProblem{
			Message: f.Query + " " + when(f) + ": " + describe(f, opts.Timings),
			Type:    string(f.Kind),
			Body:    xmlSafe(junitFailures(c.Failures, opts)),
		}
	case markInfo:
		tc.SystemOut = newJUnitText(junitFailures(c.Failures, opts))
	}
	return tc
}

// junitFailures describes every failure of a cell, one paragraph each.
func junitFailures(fs []verdict.Failure, opts Options) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Query + " " + when(f) + ": " + describe(f, opts.Timings))
		if q := qualifier(f); q != "" {
			b.WriteString(" (" + q + ")")
		}
		if f.Count > 1 {
			b.WriteString(" ×" + strconv.FormatInt(f.Count, 10))
		}
		b.WriteString("\n")
		if f.SQL != "" {
			b.WriteString("  statement: " + oneLine(f.SQL) + "\n")
		}
		b.WriteString(junitOutput(f.Output))
	}
	return b.String()
}

// junitOutput quotes an external command's output, whole: CI viewers fold it.
func junitOutput(out string) string {
	if out == "" {
		return ""
	}
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(stripANSI(out), "\n"), "\n") {
		b.WriteString("  | " + l + "\n")
	}
	return b.String()
}

// xmlSafe replaces the characters XML 1.0 cannot carry (control characters such as
// the ESC of colored command output) with U+FFFD. encoding/xml does this for
// attributes and character data but not for CDATA.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}
