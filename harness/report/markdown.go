package report

import (
	"io"
	"strconv"
	"strings"

	"github.com/straddle-dev/straddle/harness/verdict"
)

// Markdown writes r for a pull-request comment or $GITHUB_STEP_SUMMARY (GitHub
// flavored): a heading with the verdict (✅ compatible, ❌ incompatible, ⚠️ error),
// then per run a table of boundaries × releases, its violations with code and
// message in backticks, and its informational failures folded in a <details>.
func Markdown(w io.Writer, r *verdict.Result, opts Options) error {
	var b strings.Builder
	icon := "⚠️"
	switch r.Verdict {
	case verdict.Compatible:
		icon = "✅"
	case verdict.Incompatible:
		icon = "❌"
	}
	b.WriteString("## " + icon + " straddle: " + string(r.Verdict) + "\n\n")
	b.WriteString(capitalize(summary(r)) + ".\n")
	for _, run := range r.Runs {
		b.WriteString("\n")
		mdRun(&b, run, r.Violations, opts)
		if hits := mdRules(run, r.Rules); len(hits) > 0 {
			b.WriteString("\n**Phase rules**\n\n")
			for _, h := range hits {
				b.WriteString("- " + h + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdRun(b *strings.Builder, run verdict.Run, all []verdict.Violation, opts Options) {
	b.WriteString("### ")
	if run.Scenario != "" {
		b.WriteString(mdText(run.Scenario) + " on ")
	}
	b.WriteString(code(run.Engine))
	if run.ServerVersion != "" {
		b.WriteString(" (server " + mdText(run.ServerVersion) + ")")
	}
	b.WriteString("\n\n")
	if run.Error != "" {
		b.WriteString("> ⚠️ **Environment failure**: " + code(run.Error) + "\n\n")
	}

	rels := releasesOf(run)
	b.WriteString("| boundary | migration |")
	for _, rel := range rels {
		b.WriteString(" " + mdCell(string(rel)) + " |")
	}
	b.WriteString("\n| --- | --- |")
	for range rels {
		b.WriteString(" :---: |")
	}
	b.WriteString("\n")
	for _, bd := range run.Boundaries {
		m := "ok"
		switch bd.Migration.Status {
		case verdict.MigrationFailed:
			m = "❌ failed"
		case verdict.MigrationNotRun:
			m = "not run"
		}
		if opts.Timings && bd.Migration.DurationMS != nil {
			m += " " + millis(*bd.Migration.DurationMS)
		}
		b.WriteString("| " + mdCell(code(bd.String())) + " | " + m + " |")
		for _, rel := range rels {
			c := bd.Releases.Get(rel)
			s := ""
			if c != nil {
				switch markOf(*c) {
				case markPass:
					s = "✅"
				case markViolation:
					s = "❌"
				case markInfo:
					s = "⚠️ info"
				case markSkip:
					s = "–"
				}
			}
			b.WriteString(" " + s + " |")
		}
		b.WriteString("\n")
	}

	if run.OldBreaksAt != "" {
		b.WriteString("\nOld release breaks at " + code(run.OldBreaksAt) + " (" + breakNote(run) + ").\n")
	}
	if len(run.Notes) > 0 {
		for _, n := range run.Notes {
			b.WriteString("\n> **Note:** " + mdText(n) + "\n")
		}
	}

	var violations, infos []string
	for _, bd := range run.Boundaries {
		if m := bd.Migration; m.Status == verdict.MigrationFailed {
			s := "migration " + code(bd.String()) + " failed"
			if where := migrationWhere(m); where != "" {
				s += " " + where
			}
			s += ": " + mdProblem(m.Code, m.Class, m.Message)
			if m.SQL != "" {
				s += " in " + code(m.SQL)
			}
			violations = append(violations, s+mdOutput(m.Output))
		}
		for _, c := range bd.Releases {
			for _, f := range c.Violating() {
				violations = append(violations, mdFailure(bd, c, f, opts)+mdOutput(f.Output))
			}
			for _, f := range c.Failures {
				if !f.Violation {
					infos = append(infos, mdFailure(bd, c, f, opts)+" ("+qualifier(f)+")"+mdOutput(f.Output))
				}
			}
		}
	}
	if len(violations) > 0 {
		b.WriteString("\n**Violations**\n\n")
		for _, v := range violations {
			b.WriteString("- " + v + "\n")
		}
	}
	if whys := mdWhy(run, all); len(whys) > 0 {
		b.WriteString("\n**Why, and the safe way**\n\n")
		for _, w := range whys {
			b.WriteString("- " + w + "\n")
		}
	}
	if len(infos) > 0 {
		b.WriteString("\n<details><summary>Informational failures (" + strconv.Itoa(len(infos)) + ")</summary>\n\n")
		for _, v := range infos {
			b.WriteString("- " + v + "\n")
		}
		b.WriteString("\n</details>\n")
	}
	if n := schemaChanges(run); n > 0 {
		b.WriteString("\n<details><summary>Schema changes per step (" + strconv.Itoa(n) + ")</summary>\n\n")
		for _, bd := range run.Boundaries {
			for _, c := range bd.SchemaDiff {
				b.WriteString("- " + code(bd.String()) + " " + code(c.String()) + "\n")
			}
		}
		b.WriteString("\n</details>\n")
	}
}

// schemaChanges counts the run's schema changes.
func schemaChanges(run verdict.Run) int {
	n := 0
	for _, bd := range run.Boundaries {
		n += len(bd.SchemaDiff)
	}
	return n
}

// mdFailure renders one failure: "**old** `GetUser` at `expand/0002` (after the
// step): `42703` undefined-column `column "name" does not exist`".
func mdFailure(bd verdict.Boundary, c verdict.Cell, f verdict.Failure, opts Options) string {
	s := "**" + mdText(string(c.Release)) + "** " + code(f.Query) + " at " + code(bd.String()) + " (" + whenAt(bd.Phase, f) + "): "
	switch f.Kind {
	case verdict.KindStall:
		s += "stalled"
		if opts.Timings && f.WaitMS != nil {
			s += " " + millis(*f.WaitMS)
		}
		if f.Holder != "" {
			s += " waiting for " + code(f.Holder)
		}
	case verdict.KindResult:
		s += "wrong result " + code(f.Message)
	default:
		s += mdProblem(f.Code, f.Class, f.Message)
	}
	if f.Count > 1 {
		s += " ×" + strconv.FormatInt(f.Count, 10)
	}
	return s
}

// mdOutput renders the end of an external command's output as a fenced block
// inside a list item, or "" when there is none.
func mdOutput(out string) string {
	if out == "" {
		return ""
	}
	out = stripANSI(out)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) > mdOutputLines {
		lines = append([]string{"… " + plural(len(lines)-mdOutputLines, "earlier line", "earlier lines")}, lines[len(lines)-mdOutputLines:]...)
	}
	fence := "```"
	for strings.Contains(out, fence) {
		fence += "`"
	}
	var b strings.Builder
	b.WriteString("\n\n  " + fence + "text\n")
	for _, l := range lines {
		b.WriteString(strings.TrimRight("  "+l, " ") + "\n")
	}
	b.WriteString("  " + fence)
	return b.String()
}

// mdOutputLines caps the lines of command output a Markdown report shows.
const mdOutputLines = 20

// mdProblem renders "`code` class `message`", leaving out what is empty.
func mdProblem(c, class, msg string) string {
	var parts []string
	if c != "" {
		parts = append(parts, code(c))
	}
	if class != "" {
		parts = append(parts, mdText(class))
	}
	if msg != "" {
		parts = append(parts, code(msg))
	}
	if len(parts) == 0 {
		return "error"
	}
	return strings.Join(parts, " ")
}

// code renders s as an inline code span on one line, with a fence longer than any
// backtick run inside it (CommonMark).
func code(s string) string {
	s = oneLine(s)
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "|", `\|`, "#", `\#`,
)

// mdText escapes s for Markdown prose.
func mdText(s string) string { return mdEscaper.Replace(oneLine(s)) }

// mdCell makes s safe in a table cell, where a pipe ends the cell even inside a
// code span.
func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mdWhy lists, once per step and cause, what a step changed that broke queries
// and the safe way to make that change (verdict.Explanation).
func mdWhy(run verdict.Run, vs []verdict.Violation) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range vs {
		e := v.Explain
		if v.Engine != run.Engine || v.Scenario != run.Scenario || e == nil || e.Cause == "" {
			continue
		}
		k := v.Boundary() + "\x00" + e.Cause
		if seen[k] {
			continue
		}
		seen[k] = true
		s := code(v.Boundary()) + ": " + mdText(e.Cause) + ". Fix (" + mdText(e.Pattern) + "): " + mdText(e.Recipe)
		if e.Example != "" {
			s += " — see " + code(e.Example)
		}
		out = append(out, s)
	}
	return out
}
