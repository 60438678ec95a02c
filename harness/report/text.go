package report

import (
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/straddle-dev/straddle/harness/schema"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// textWidth is the width the text report fits in (tables and headers; a long
// error message may still wrap).
const textWidth = 100

// outputLines caps the lines of an external command's output the text report
// shows: the last ones.
const outputLines = 10

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
)

type textPrinter struct {
	b     strings.Builder
	opts  Options
	color bool
}

func (p *textPrinter) paint(code, s string) string {
	if !p.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (p *textPrinter) line(parts ...string) {
	p.b.WriteString(strings.TrimRight(strings.Join(parts, ""), " "))
	p.b.WriteByte('\n')
}

// Text writes r for a terminal: per run, a table of boundaries × releases, the
// first failure of each failed cell, and where the old release breaks; then the
// verdict.
//
//	ok   rename_column on postgres:15 (server 15.18)
//	  boundary                 migration  old     new
//	  baseline                 ok         ✓       -
//	  expand/0002_add_column   ok         ✓       ✓
//	  contract/0003_drop_name  ok         ✗ info  ✓
//
//	  INFO old at contract/0003_drop_name, after the step: GetUser
//	       42703 undefined-column: column "name" does not exist
//
//	  old breaks at contract/0003_drop_name (point of no return)
//
//	verdict: compatible (no violations in 1 run)
//
// ✓ passed, ✗ failed with a violation, "✗ info" failed without one
// (informational or transient), - not run.
func Text(w io.Writer, r *verdict.Result, opts Options) error {
	p := &textPrinter{opts: opts, color: opts.Color}
	for _, run := range r.Runs {
		p.run(run)
		p.explain(run, r.Violations)
		p.rules(run, r.Rules)
		p.line()
	}
	v := string(r.Verdict)
	switch r.Verdict {
	case verdict.Compatible:
		v = p.paint(ansiGreen+ansiBold, v)
	case verdict.Incompatible:
		v = p.paint(ansiRed+ansiBold, v)
	default:
		v = p.paint(ansiYellow+ansiBold, v)
	}
	if len(r.WorkloadErrors) > 0 {
		p.workloadErrors(r.WorkloadErrors)
		p.line()
	}
	p.line(p.paint(ansiDim, legend))
	p.line("verdict: ", v, " (", summary(r), ")")
	_, err := io.WriteString(w, p.b.String())
	return err
}

func (p *textPrinter) run(run verdict.Run) {
	status := p.paint(ansiGreen, "ok  ")
	switch {
	case run.Violations() > 0:
		status = p.paint(ansiRed, "FAIL")
	case run.Error != "":
		status = p.paint(ansiYellow, "ERR ")
	}
	p.line(status, " ", runTitle(run))
	if run.Error != "" {
		p.line("  ", p.paint(ansiYellow, "environment failure: "), oneLine(run.Error))
	}
	p.table(run)

	var details bool
	for _, b := range run.Boundaries {
		if b.Migration.Status == verdict.MigrationFailed {
			if !details {
				p.line()
				details = true
			}
			p.migration(b)
		}
		for _, c := range b.Releases {
			if c.Status != verdict.Fail {
				continue
			}
			if !details {
				p.line()
				details = true
			}
			p.cell(b, c)
		}
	}
	if run.OldBreaksAt != "" {
		p.line()
		p.line("  old breaks at ", run.OldBreaksAt, " (", breakNote(run), ")")
	}
	p.schema(run)
	if len(run.Notes) > 0 {
		p.line()
		for _, n := range run.Notes {
			p.line("  ", p.paint(ansiDim, "note:"), " ", oneLine(n))
		}
	}
	if p.opts.Latency && p.opts.Timings {
		p.latency(run) // latency.go
	}
}

func (p *textPrinter) table(run verdict.Run) {
	rels := releasesOf(run)
	const gap = 2
	migW := len("migration")
	migs := make([]string, len(run.Boundaries))
	for i, b := range run.Boundaries {
		migs[i] = p.migrationCell(b.Migration)
		migW = max(migW, utf8.RuneCountInString(migs[i]))
	}
	relW := make([]int, len(rels))
	rest := 2 + gap + migW
	for i, rel := range rels {
		relW[i] = max(utf8.RuneCountInString(string(rel)), utf8.RuneCountInString("✗ info"))
		rest += gap + relW[i]
	}
	nameW := len("boundary")
	for _, b := range run.Boundaries {
		nameW = max(nameW, utf8.RuneCountInString(b.String()))
	}
	nameW = min(nameW, max(textWidth-rest, 20))

	head := []string{"  ", pad("boundary", nameW), "  ", pad("migration", migW)}
	for i, rel := range rels {
		head = append(head, "  ", pad(string(rel), relW[i]))
	}
	p.line(head...)
	for i, b := range run.Boundaries {
		row := []string{"  ", pad(truncate(b.String(), nameW), nameW), "  "}
		code := ""
		switch b.Migration.Status {
		case verdict.MigrationFailed:
			code = ansiRed
		case verdict.MigrationNotRun:
			code = ansiDim
		}
		row = append(row, p.padPaint(code, migs[i], migW))
		for j, rel := range rels {
			row = append(row, "  ")
			c := b.Releases.Get(rel)
			if c == nil {
				row = append(row, pad("", relW[j]))
				continue
			}
			row = append(row, p.markCell(*c, relW[j]))
		}
		p.line(row...)
	}
}

func (p *textPrinter) migrationCell(m verdict.Migration) string {
	s := "ok"
	switch m.Status {
	case verdict.MigrationFailed:
		s = "FAILED"
	case verdict.MigrationNotRun:
		s = "not run"
	}
	if p.opts.Timings && m.DurationMS != nil {
		s += " " + millis(*m.DurationMS)
	}
	return s
}

func (p *textPrinter) markCell(c verdict.Cell, w int) string {
	switch markOf(c) {
	case markViolation:
		return p.padPaint(ansiRed, "✗", w)
	case markInfo:
		return p.padPaint(ansiYellow, "✗ info", w)
	case markSkip:
		return p.padPaint(ansiDim, "-", w)
	}
	return p.padPaint(ansiGreen, "✓", w)
}

// padPaint paints s (when code is not "") and pads it to w runes outside the
// colors, so trailing blanks can be trimmed.
func (p *textPrinter) padPaint(code, s string, w int) string {
	if code != "" {
		return p.paint(code, s) + strings.Repeat(" ", max(w-utf8.RuneCountInString(s), 0))
	}
	return pad(s, w)
}

const detailIndent = "       "

func (p *textPrinter) migration(b verdict.Boundary) {
	m := b.Migration
	head := []string{"  ", p.paint(ansiRed, "FAIL"), " migration ", b.String(), " failed"}
	if where := migrationWhere(m); where != "" {
		head = append(head, " ", where)
	}
	p.line(head...)
	if s := migrationWhat(m); s != "" {
		p.line(detailIndent, s)
	}
	if m.SQL != "" {
		p.line(detailIndent, truncate(oneLine(m.SQL), textWidth-len(detailIndent)))
	}
	p.output(m.Output)
}

// output shows the end of an external command's output, where a failing
// command says why.
func (p *textPrinter) output(out string) {
	if out == "" {
		return
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	p.line(detailIndent, "output:")
	if len(lines) > outputLines {
		p.line(detailIndent, "  … ", plural(len(lines)-outputLines, "earlier line", "earlier lines"))
		lines = lines[len(lines)-outputLines:]
	}
	for _, l := range lines {
		p.line(detailIndent, "  ", l)
	}
}

func (p *textPrinter) cell(b verdict.Boundary, c verdict.Cell) {
	f, ok := shown(c)
	if !ok {
		return
	}
	tag := p.paint(ansiRed, "FAIL")
	if !f.Violation {
		tag = p.paint(ansiYellow, "INFO")
	}
	where := string(c.Release) + " at " + b.String()
	what := whenAt(b.Phase, f) + ": " + f.Query
	if q := qualifier(f); q != "" && (f.Transient || f.Workload || (f.Since != "" && f.Required) || (f.Kind == verdict.KindStall && q != "informational")) {
		what += " (" + q + ")" // transient, still failing, or a stall the policy makes a warning
	}
	if f.Timing {
		what += " (timing: only while the step ran)"
	}
	// "  FAIL " + where + ", " + what, or two lines when that is too wide.
	if utf8.RuneCountInString(where+", "+what)+len(detailIndent) <= textWidth {
		p.line("  ", tag, " ", where, ", ", what)
	} else {
		p.line("  ", tag, " ", truncate(where, textWidth-len(detailIndent)))
		p.line(detailIndent, what)
	}
	p.line(detailIndent, describe(f, p.opts.Timings))
	if f.AfterStatement > 0 && f.SQL != "" {
		p.line(detailIndent, truncate(oneLine("statement "+strconv.Itoa(f.AfterStatement)+": "+f.SQL), textWidth-len(detailIndent)))
	}
	p.output(f.Output)
	// Every other query that broke in the cell, so a reader sees the whole damage
	// (a CI log is often all they get), not just the first failure.
	if others := otherQueries(c, f); len(others) > 0 {
		p.line(detailIndent, truncate("also "+strings.Join(others, ", "), textWidth-len(detailIndent)))
	}
}

// otherQueries lists the cell's failing queries other than shown's, once each by
// query and code, in order of first occurrence: "GetUser 42703".
func otherQueries(c verdict.Cell, shown verdict.Failure) []string {
	seen := map[string]bool{shown.Query + " " + shown.Code: true}
	var out []string
	for _, f := range c.Failures {
		k := f.Query + " " + f.Code
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, strings.TrimSpace(k))
	}
	return out
}

// pad left-aligns s in w runes.
func pad(s string, w int) string {
	n := utf8.RuneCountInString(s)
	if n >= w {
		return s
	}
	return s + strings.Repeat(" ", w-n)
}

// legend explains the table's marks and what a release that is not required
// does.
const legend = "✓ pass · ✗ violation · ✗ info: not a violation (a release not required there,\n" +
	"its writes rolled back; or still failing since an earlier step) · - not run"

// workloadErrors lists the queries that fail before any step could break them.
func (p *textPrinter) workloadErrors(wes []verdict.WorkloadError) {
	p.line(p.paint(ansiYellow, "workload errors"), ": these queries fail before any step could break them (on their own release's baseline,")
	p.line("or with arguments straddle generated that break a constraint where the query first runs);")
	p.line("fix the query or give its arguments with -- args: (what its arguments break later is not judged;")
	p.line("a table or column a step takes from it still is)")
	for _, we := range wes {
		what := we.Code
		if we.Class != "" {
			what += " " + we.Class
		}
		if we.Kind == verdict.KindResult {
			what = "wrong result"
		}
		at := ""
		if we.Boundary != "" && we.Boundary != "baseline" {
			at = " at " + we.Boundary
		}
		p.line("  ", string(we.Release), " ", we.Query, " on ", we.Engine, at, ": ", strings.TrimSpace(what), ": ", oneLine(we.Message))
	}
}

// schemaLines caps the schema changes the text report shows per step.
const schemaLines = 6

// schema lists what each step changed in the schema, a few lines per step.
func (p *textPrinter) schema(run verdict.Run) {
	if schemaChanges(run) == 0 {
		return
	}
	p.line()
	p.line("  schema changes:")
	// The changes of every step start in one column, as the table's cells do.
	width := 0
	for _, b := range run.Boundaries {
		if len(b.SchemaDiff) > 0 {
			width = max(width, utf8.RuneCountInString(b.String()))
		}
	}
	for _, b := range run.Boundaries {
		for i, c := range b.SchemaDiff {
			if i == schemaLines {
				p.line("    ", p.paint(ansiDim, "… "+plural(len(b.SchemaDiff)-schemaLines, "more change", "more changes")))
				break
			}
			name := b.String()
			if i > 0 {
				name = ""
			}
			name += strings.Repeat(" ", width-utf8.RuneCountInString(name))
			line, budget := c.String(), max(textWidth-6-width, 30)
			if head, change, ok := strings.Cut(line, ": "); ok && c.Op == schema.Changed && utf8.RuneCountInString(line) > budget {
				// A change of detail too long for the line: what it was and what
				// it is on a line of their own, not cut in the middle.
				pad := "    " + strings.Repeat(" ", width)
				p.line("    ", name, "  ", head+":")
				was, is, _ := strings.Cut(change, " → ")
				p.line(pad, "    ", truncate(was, max(textWidth-10-width, 30)))
				p.line(pad, "  → ", truncate(is, max(textWidth-10-width, 30)))
				continue
			}
			p.line("    ", name, "  ", truncate(line, budget))
		}
	}
}

// explain says, for each change of a step that broke queries, which queries,
// and the safe way to make that change (verdict.Explanation); and which
// violations no change of their step explains.
func (p *textPrinter) explain(run verdict.Run, vs []verdict.Violation) {
	type group struct {
		where   string
		e       *verdict.Explanation
		queries []string
	}
	var groups []*group
	find := map[string]*group{}
	var unexplained []string
	for _, v := range vs {
		if v.Engine != run.Engine || v.Scenario != run.Scenario || v.Explain == nil {
			continue
		}
		where := v.Boundary()
		q := string(v.Release) + " " + v.Query
		if v.Explain.Cause == "" {
			unexplained = append(unexplained, q+" at "+where)
			continue
		}
		k := where + "\x00" + v.Explain.Cause
		g := find[k]
		if g == nil {
			g = &group{where: where, e: v.Explain}
			find[k] = g
			groups = append(groups, g)
		}
		if v.Query != "" && !slices.Contains(g.queries, q) {
			g.queries = append(g.queries, q)
		}
	}
	if len(groups) == 0 && len(unexplained) == 0 {
		return
	}
	p.line()
	p.line("  why:")
	width := textWidth - 8
	for _, g := range groups {
		for i, l := range Wrap(g.where+": "+g.e.Cause, textWidth-6) {
			if i == 0 {
				p.line("    ", l)
			} else {
				p.line("      ", l)
			}
		}
		if len(g.queries) > 0 {
			p.line("      broke ", truncate(strings.Join(g.queries, ", "), width-6))
		}
		for i, l := range Wrap("fix ("+g.e.Pattern+"): "+g.e.Recipe, width) {
			if i == 0 {
				p.line("      ", l)
			} else {
				p.line("        ", l)
			}
		}
		if g.e.Example != "" {
			p.line("      see ", g.e.Example)
		}
	}
	if len(unexplained) > 0 {
		for i, l := range Wrap("no change of its step explains "+strings.Join(unexplained, ", "), textWidth-6) {
			if i == 0 {
				p.line("    ", l)
			} else {
				p.line("      ", l)
			}
		}
	}
}

// Wrap breaks s into lines of at most w runes at spaces (a longer word stands
// alone on its line).
func Wrap(s string, w int) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > w {
			out = append(out, line)
			line = word
			continue
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}
