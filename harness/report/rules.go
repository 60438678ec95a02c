package report

import (
	"strings"
	"unicode/utf8"

	"github.com/straddle-dev/straddle/harness/verdict"
)

// runRules returns the hits of run, in report order.
func runRules(run verdict.Run, all []verdict.RuleHit) []verdict.RuleHit {
	var out []verdict.RuleHit
	for _, h := range all {
		if h.Engine == run.Engine && h.Scenario == run.Scenario {
			out = append(out, h)
		}
	}
	return out
}

// ruleOutcome says how the run settled h, in a few words: "proven: old GetUser
// 42703", "refuted by old ListUsers", "not exercised".
func ruleOutcome(h verdict.RuleHit) string {
	switch h.Outcome {
	case verdict.Proven:
		s := "proven"
		if v := h.Violation; v != nil {
			s += ": " + strings.TrimSpace(string(v.Release)+" "+v.Query+" "+v.Code)
		}
		return s
	case verdict.Refuted:
		return "refuted by " + strings.Join(h.Queries, ", ")
	}
	return "not exercised"
}

// fitOutcome is ruleOutcome in n runes where it can be: a refuting query list
// that does not fit ends in "and N more" (the JSON report lists every query);
// anything else is left whole, longer than n when it must.
func fitOutcome(h verdict.RuleHit, n int) string {
	if h.Outcome != verdict.Refuted || len(h.Queries) < 2 {
		return ruleOutcome(h)
	}
	out := "refuted by " + h.Queries[0]
	rest := h.Queries[1:]
	for i, q := range rest {
		more := " and " + plural(len(rest)-i, "more", "more")
		room := n
		if i < len(rest)-1 {
			room -= utf8.RuneCountInString(more) // what is left must fit after it
		}
		if utf8.RuneCountInString(out+", "+q) > room {
			return out + more
		}
		out += ", " + q
	}
	return out
}

// rules lists the phase rules the run's steps break, one line per hit (rule,
// step, object, outcome), then what to do about a hit not exercised and the
// reason of an exception.
//
//	rules:
//	  drop-in-expand  expand/0002_drop_nickname  column users.nickname  proven: old GetUser 42703
//	  unique-in-expand  expand/0003_unique_name  index users.users_name_key  refuted by old CreateUser
//	  drop-in-expand  expand/0004_drop_legacy  column users.legacy  not exercised
//	    try: SELECT legacy FROM users LIMIT 1
//	    allowed (migrations/0004_drop_legacy.sql:2): column unused since v1.2
func (p *textPrinter) rules(run verdict.Run, all []verdict.RuleHit) {
	hits := runRules(run, all)
	if len(hits) == 0 {
		return
	}
	p.line()
	p.line("  rules:")
	for _, h := range hits {
		// One line per hit where the outcome fits the width (no column is
		// padded, to leave it room); else the outcome goes under it.
		head := "    " + string(h.Rule) + "  " + h.Boundary() + "  " + h.Object + "  "
		suffix := ""
		if h.Fails {
			suffix = " (fails --rules error)"
		}
		budget := textWidth - utf8.RuneCountInString(head+suffix)
		out := fitOutcome(h, budget)
		alone := utf8.RuneCountInString(out) > budget
		if alone {
			out = fitOutcome(h, textWidth-6-utf8.RuneCountInString(suffix))
		}
		out += suffix
		switch {
		case h.Outcome == verdict.Proven:
			out = p.paint(ansiRed, out)
		case h.Fails:
			out = p.paint(ansiRed, out)
		case h.Outcome == verdict.NotExercised && h.Allowed == "":
			out = p.paint(ansiYellow, out)
		}
		if alone {
			p.line(head)
			p.line("      ", out)
		} else {
			p.line(head, out)
		}
		if h.Suggest != "" {
			p.line("      try: ", truncate(h.Suggest, textWidth-11))
		}
		if h.Allowed != "" {
			for i, l := range Wrap("allowed ("+h.AllowedAt+"): "+h.Allowed, textWidth-8) {
				if i == 0 {
					p.line("      ", l)
				} else {
					p.line("        ", l)
				}
			}
		}
	}
}

// mdRules lists the run's rule hits for Markdown.
func mdRules(run verdict.Run, all []verdict.RuleHit) []string {
	var out []string
	for _, h := range runRules(run, all) {
		s := code(string(h.Rule)) + " " + code(h.Boundary()) + " " + mdText(h.Object) + ": **" + mdText(ruleOutcome(h)) + "**"
		if h.Fails {
			s += " (fails `--rules error`)"
		}
		if h.Suggest != "" {
			s += "; try " + code(h.Suggest)
		}
		if h.Allowed != "" {
			s += "; allowed (" + code(h.AllowedAt) + "): " + mdText(h.Allowed)
		}
		if h.Pattern != "" {
			s += ". Safe way (" + mdText(h.Pattern) + "): " + mdText(h.Recipe)
		}
		out = append(out, s)
	}
	return out
}

// junitRules makes one testcase per hit ("rule drop-in-expand expand/0002_x
// column users.nickname"): a failure when it fails --rules error, else passing
// with the outcome as its output (a proven hit's violation is a failure of its
// own cell already).
func junitRules(run verdict.Run, all []verdict.RuleHit, class string) []junitCase {
	var out []junitCase
	for _, h := range runRules(run, all) {
		c := junitCase{Name: "rule " + string(h.Rule) + " " + h.Boundary() + " " + h.Object, Classname: class}
		text := ruleOutcome(h)
		if h.Suggest != "" {
			text += "\ntry: " + h.Suggest
		}
		if h.Allowed != "" {
			text += "\nallowed (" + h.AllowedAt + "): " + h.Allowed
		}
		if h.Fails {
			c.Failure = &junitProblem{Message: xmlSafe(oneLine(ruleOutcome(h) + " (--rules error)")), Type: "rule", Body: xmlSafe(text)}
		} else {
			c.SystemOut = newJUnitText(text)
		}
		out = append(out, c)
	}
	return out
}
