package cli

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/lockwatch"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/runner"
)

// loadFlags are the load-mode flags of `straddle check` (docs/load.md): traffic
// with concurrent clients through before, during and after windows, the stall
// threshold, and the per-release connection switch.
type loadFlags struct {
	clients  perRelease
	rate     perRelease
	duration perRelease
	maxStall stallFlag
	stalls   string
	fresh    string
	binding  perRelease
	// overrides are the --policy values, in order.
	overrides overrideFlags
	latency   bool
}

func (l *loadFlags) register(fs *flag.FlagSet) {
	fs.Var(&l.clients, "clients", fmt.Sprintf("load mode: `N` concurrent clients per release (default %d), or old=N,new=M; each release runs continuously through a before window, the step and an after window", runner.DefaultClients))
	fs.Var(&l.rate, "rate", "load mode: `R` executions a second per release in all (default: as fast as the server takes them), or old=R,new=S")
	fs.Var(&l.duration, "duration", fmt.Sprintf("load mode: length `D` of the before and after windows (default %s), or old=D,new=E", runner.DefaultDuration))
	fs.Var(&l.maxStall, "max-stall", fmt.Sprintf("a query a step holds up `D` beyond its usual latency is a stall, reported as blocking with the lock and its holder (default %s; off to turn off)", lockwatch.DefaultMaxStall))
	fs.StringVar(&l.stalls, "stalls", "violation", "what a stall in a required cell is: `violation` (fails the check) or warning (reported only)")
	fs.BoolVar(&l.latency, "latency", false, "add each release's executions and p50/p99/max latency per boundary, window (before, during, after the step) and query to the text report")
	fs.Var(&l.overrides, "policy", "override the policy table: `SELECTOR:RELEASE=REQUIREMENT[@during|after]` with SELECTOR *, a phase or PHASE/STEP and REQUIREMENT required, informational or skip (repeatable; later ones win), e.g. --policy contract:old=required")
	fs.Var(&l.binding, "binding", "how each release's driver sends arguments: `B` is prepared (a server-side statement prepared once per connection and kept: pgx's statement cache, Go's db.Prepare; the default), interpolated (put into the text on the client: pgx's simple protocol, go-sql-driver/mysql's interpolateParams, the default of JDBC and PDO on MySQL) or prepare-each (prepared, executed and closed each time: database/sql with go-sql-driver/mysql's defaults), or old=B,new=C")
	fs.StringVar(&l.fresh, "fresh-connections", "", "run each `RELEASE`'s traffic (old, new, or old,new) on a new connection per pass instead of its long-lived pool; the state probes run every query both ways whatever this says")
}

// on reports whether load mode was asked for.
func (l *loadFlags) on() bool { return l.clients.set || l.rate.set || l.duration.set }

// validate checks the values; Set has checked their syntax.
func (l *loadFlags) validate() error {
	if _, err := l.freshReleases(); err != nil {
		return err
	}
	for _, rel := range plan.Releases {
		if v, ok := l.binding.of(rel); ok {
			if _, err := engine.ParseBinding(v); err != nil {
				return fmt.Errorf("%w: --binding: %v", ErrUsage, err)
			}
		}
	}
	if _, err := plan.ParseStallPolicy(l.stalls); err != nil {
		return fmt.Errorf("%w: --stalls: %v", ErrUsage, err)
	}
	_, err := l.loads()
	return err
}

// loads returns the load settings per release; nil when load mode is off.
func (l *loadFlags) loads() (map[plan.Release]runner.Load, error) {
	if !l.on() {
		return nil, nil
	}
	out := map[plan.Release]runner.Load{}
	for _, rel := range plan.Releases {
		var ld runner.Load
		if v, ok := l.clients.of(rel); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%w: --clients %s: want a count of 1 or more", ErrUsage, v)
			}
			ld.Clients = n
		}
		if v, ok := l.rate.of(rel); ok {
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || r <= 0 {
				return nil, fmt.Errorf("%w: --rate %s: want executions a second, more than 0", ErrUsage, v)
			}
			ld.Rate = r
		}
		if v, ok := l.duration.of(rel); ok {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("%w: --duration %s: want a duration such as 500ms or 2s", ErrUsage, v)
			}
			ld.Duration = d
		}
		out[rel] = ld
	}
	return out, nil
}

// session returns the session's load settings (validate checked them).
func (l *loadFlags) session() map[plan.Release]runner.Load {
	m, _ := l.loads()
	return m
}

// policy returns the session's policy: the default table, with --stalls.
func (l *loadFlags) policy() plan.Policy {
	sp, _ := plan.ParseStallPolicy(l.stalls)
	return plan.Policy{Stalls: sp, Overrides: append([]plan.Override(nil), l.overrides...)}
}

// overrideFlags is the repeatable --policy flag: each value one plan.Override.
type overrideFlags []plan.Override

func (o *overrideFlags) String() string {
	var out []string
	for _, x := range *o {
		s := x.Selector + ":" + string(x.Release) + "=" + string(x.Requirement)
		if x.Window != "" {
			s += "@" + string(x.Window)
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

func (o *overrideFlags) Set(s string) error {
	x, err := plan.ParseOverride(s)
	if err != nil {
		return err
	}
	*o = append(*o, x)
	return nil
}

// stall returns the session's MaxStall: 0 (the default) unless given, negative
// for off.
func (l *loadFlags) stall() time.Duration { return l.maxStall.d }

// freshReleases parses --fresh-connections.
func (l *loadFlags) freshReleases() (map[plan.Release]bool, error) {
	out := map[plan.Release]bool{}
	if l.fresh == "" {
		return out, nil
	}
	for _, s := range strings.Split(l.fresh, ",") {
		rel, err := plan.ParseRelease(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%w: --fresh-connections: %v", ErrUsage, err)
		}
		out[rel] = true
	}
	return out, nil
}

// freshFor reports whether rel runs on fresh connections (validate checked the
// flag).
func (l *loadFlags) freshFor(rel plan.Release) bool {
	m, _ := l.freshReleases()
	return m[rel]
}

// bindingFor returns rel's --binding (validate checked it); "" is the default.
func (l *loadFlags) bindingFor(rel plan.Release) engine.Binding {
	v, ok := l.binding.of(rel)
	if !ok {
		return ""
	}
	b, _ := engine.ParseBinding(v)
	return b
}

// perRelease is a flag value for both releases ("4") or each ("old=8,new=2").
type perRelease struct {
	all  string
	rels map[plan.Release]string
	set  bool
}

func (p *perRelease) String() string {
	if p == nil || !p.set {
		return ""
	}
	if p.rels == nil {
		return p.all
	}
	var parts []string
	for _, r := range plan.Releases {
		if v, ok := p.rels[r]; ok {
			parts = append(parts, string(r)+"="+v)
		}
	}
	return strings.Join(parts, ",")
}

func (p *perRelease) Set(v string) error {
	p.set = true
	if !strings.Contains(v, "=") {
		p.all, p.rels = v, nil
		return nil
	}
	p.rels = map[plan.Release]string{}
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(part, "=")
		rel, err := plan.ParseRelease(strings.TrimSpace(k))
		if !ok || err != nil || val == "" {
			return fmt.Errorf("%q: want VALUE or old=VALUE,new=VALUE", v)
		}
		p.rels[rel] = strings.TrimSpace(val)
	}
	return nil
}

// of returns the value for rel, if one was given.
func (p *perRelease) of(rel plan.Release) (string, bool) {
	if !p.set {
		return "", false
	}
	if p.rels == nil {
		return p.all, true
	}
	v, ok := p.rels[rel]
	return v, ok
}

// stallFlag is --max-stall: a duration, or off.
type stallFlag struct{ d time.Duration }

func (s *stallFlag) String() string {
	switch {
	case s == nil || s.d == 0:
		return ""
	case s.d < 0:
		return "off"
	}
	return s.d.String()
}

func (s *stallFlag) Set(v string) error {
	if v == "off" || v == "0" {
		s.d = -1
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q: want a duration such as 500ms or 2s, or off", v)
	}
	s.d = d
	return nil
}
