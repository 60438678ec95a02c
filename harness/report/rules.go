package report

import (
	"strings"

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

// fitOutcome is ruleOutcome in n runes or so: a refuting query list that
// does not fit ends in "and N more" (the JSON report lists every query).
func fitOutcome(h verdict.RuleHit, n int) string {
	if h.Outcome != verdict.Refuted || len(h.Queries) < 2 {
		return ruleOutcome(h)
	}
	out := "refuted by " + h.Queries[0]
	for i, q := range h.Queries[1:] {
		more := " and " + plural(len(h.Queries)-1-i, "more", "more")
		if len([]rune(out+", "+q)) > n-len(more) {
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
//	  drop-in-expand  expand/0003_drop_legacy    column users.legacy    not exercised
//	    try: SELECT legacy FROM users LIMIT 1
//	    allowed (migrations/0003_drop_legacy.sql:2): column unused since v1.2
func (p *textPrinter) rules(run verdict.Run, all []verdict.RuleHit) {
	hits := runRules(run, all)
	if len(hits) == 0 {
		return
	}
	var wr, wb, wo int
	for _, h := range hits {
		wr = max(wr, len(h.Rule))
		wb = max(wb, len(h.Boundary()))
		wo = max(wo, len([]rune(h.Object)))
	}
	p.line()
	p.line("  rules:")
	for _, h := range hits {
		out := fitOutcome(h, max(textWidth-4-wr-2-wb-2-wo-2, 30))
		if h.Fails {
			out += " (fails --rules error)"
		}
		switch {
		case h.Outcome == verdict.Proven:
			out = p.paint(ansiRed, out)
		case h.Fails:
			out = p.paint(ansiRed, out)
		case h.Outcome == verdict.NotExercised && h.Allowed == "":
			out = p.paint(ansiYellow, out)
		}
		p.line("    ", pad(string(h.Rule), wr), "  ", pad(h.Boundary(), wb), "  ", pad(h.Object, wo), "  ", out)
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
