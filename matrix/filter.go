package matrix

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/straddle-dev/straddle/harness/plan"
)

// pattern is a compiled --only/--skip/costs pattern.
type pattern struct{ re *regexp.Regexp }

// Match reports whether pat selects cell c: a pattern is a glob (* any text, ?
// one character) matched against the whole cell id (kind/name@engine), the id
// without its kind (name@engine), the input (kind/name or name), or the engine
// ("postgres:13", or "postgres" for every version of a flavor).
func Match(pat string, c Cell) (bool, error) {
	p, err := compile(pat)
	if err != nil {
		return false, err
	}
	return p.match(c), nil
}

func compile(pat string) (pattern, error) {
	if strings.TrimSpace(pat) == "" {
		return pattern{}, fmt.Errorf("empty pattern")
	}
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pat {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return pattern{}, fmt.Errorf("pattern %q: %v", pat, err)
	}
	return pattern{re}, nil
}

func (p pattern) match(c Cell) bool {
	return p.re.MatchString(c.ID) || p.re.MatchString(c.Input.Name+"@"+c.Engine.String()) ||
		p.re.MatchString(c.Input.Name) ||
		p.re.MatchString(string(c.Input.Kind)+"/"+c.Input.Name) ||
		p.re.MatchString(c.Engine.String()) || p.re.MatchString(string(c.Engine.Flavor))
}

func compileAll(pats []string, flag string) ([]pattern, error) {
	out := make([]pattern, 0, len(pats))
	for _, s := range pats {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			p, err := compile(part)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", plan.ErrBadInput, flag, err)
			}
			out = append(out, p)
		}
	}
	return out, nil
}

func anyMatch(ps []pattern, c Cell) bool {
	for _, p := range ps {
		if p.match(c) {
			return true
		}
	}
	return false
}
