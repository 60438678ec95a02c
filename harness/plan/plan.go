package plan

import (
	"fmt"
	"strings"
)

// Phase is the phase of a migration step.
type Phase string

const (
	Baseline Phase = "baseline"
	Expand   Phase = "expand"
	Migrate  Phase = "migrate"
	Contract Phase = "contract"
)

// Phases lists the phases in rollout order.
var Phases = []Phase{Baseline, Expand, Migrate, Contract}

// ParsePhase returns the phase named s.
func ParsePhase(s string) (Phase, error) {
	for _, p := range Phases {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown phase %q (want baseline, expand, migrate or contract)", s)
}

// Order is the phase's position in the rollout (baseline 0 … contract 3).
func (p Phase) Order() int {
	for i, q := range Phases {
		if q == p {
			return i
		}
	}
	return -1
}

// Release is a version of the application.
type Release string

const (
	Old Release = "old"
	New Release = "new"
)

// Releases lists the releases in report order.
var Releases = []Release{Old, New}

// ParseRelease returns the release named s.
func ParseRelease(s string) (Release, error) {
	switch Release(s) {
	case Old, New:
		return Release(s), nil
	}
	return "", fmt.Errorf("unknown release %q (want old or new)", s)
}

// Window is when, relative to a step, an observation was made.
type Window string

const (
	Before Window = "before" // at the boundary before the step, i.e. the previous "after"
	During Window = "during" // while the step was being applied
	After  Window = "after"  // once the step was applied
)

// Order is the window's position around a step: before 0, during 1, after 2.
func (w Window) Order() int {
	switch w {
	case Before:
		return 0
	case During:
		return 1
	}
	return 2
}

// Boundary is the database state after a step (and the window during it). The
// baseline boundary has Phase Baseline and Step "baseline".
type Boundary struct {
	Index int    // position in the rollout, baseline = 0
	Phase Phase  // phase of the step
	Step  string // step name, e.g. "0002_rename_name"
}

// String renders "phase/step" ("baseline" for the baseline).
func (b Boundary) String() string {
	if b.Phase == Baseline {
		return string(Baseline)
	}
	return string(b.Phase) + "/" + b.Step
}

// Requirement says whether a release must work in a cell.
type Requirement string

const (
	Required      Requirement = "required"
	Informational Requirement = "informational"
	NotRun        Requirement = "skip" // the release does not run here
)

// ParseRequirement returns the requirement named s ("required", "informational",
// "skip").
func ParseRequirement(s string) (Requirement, error) {
	switch Requirement(s) {
	case Required, Informational, NotRun:
		return Requirement(s), nil
	}
	return "", fmt.Errorf("unknown requirement %q (want required, informational or skip)", s)
}

// Rollout is the ordered list of boundaries of one migration set.
type Rollout []Boundary

// NewRollout builds the boundaries for steps given as (phase, name) pairs already in
// apply order, after the baseline. Baseline-phase steps are folded into the baseline
// boundary. It returns an error when phases go backwards (expand after migrate…).
func NewRollout(steps []StepRef) (Rollout, error) {
	r := Rollout{{Index: 0, Phase: Baseline, Step: string(Baseline)}}
	last := Baseline
	for _, s := range steps {
		if s.Phase.Order() < 0 {
			return nil, fmt.Errorf("step %s: unknown phase %q", s.Name, s.Phase)
		}
		if s.Phase.Order() < last.Order() {
			return nil, fmt.Errorf("step %s: phase %s comes after %s; steps must be ordered baseline, expand, migrate, contract", s.Name, s.Phase, last)
		}
		last = s.Phase
		if s.Phase == Baseline {
			continue
		}
		r = append(r, Boundary{Index: len(r), Phase: s.Phase, Step: s.Name})
	}
	return r, nil
}

// StepRef names a step and its phase.
type StepRef struct {
	Name  string
	Phase Phase
}

// LastOf returns the index of the last boundary of phase p, or -1.
func (r Rollout) LastOf(p Phase) int {
	last := -1
	for _, b := range r {
		if b.Phase == p {
			last = b.Index
		}
	}
	return last
}

// Override replaces the default requirement for a release at matching boundaries.
// Selector is "phase" (every step of it), "phase/step", "baseline" or "*".
type Override struct {
	Selector    string
	Release     Release
	Window      Window // "" matches both during and after
	Requirement Requirement
}

// Matches reports whether the override applies to (b, rel, w).
func (o Override) Matches(b Boundary, rel Release, w Window) bool {
	if o.Release != rel || (o.Window != "" && o.Window != w) {
		return false
	}
	switch {
	case o.Selector == "*":
		return true
	case strings.Contains(o.Selector, "/"):
		return o.Selector == b.String()
	default:
		return o.Selector == string(b.Phase)
	}
}

// Policy decides which release must work where. The zero value is the default policy
// of shared/DESIGN.md; Overrides, later ones winning, replace cells of it.
type Policy struct {
	Overrides []Override
	// Stalls says what a stall in a required cell is: a violation (the default)
	// or a warning, reported but not fatal.
	Stalls StallPolicy
}

// StallPolicy is what a stall (a query a step held up beyond the stall
// threshold) in a required cell counts as.
type StallPolicy string

const (
	StallViolation StallPolicy = ""        // the default: downtime breaks the verdict
	StallWarning   StallPolicy = "warning" // reported, not fatal
)

// ParseStallPolicy returns the stall policy named s ("violation" or "warning").
func ParseStallPolicy(s string) (StallPolicy, error) {
	switch s {
	case "violation":
		return StallViolation, nil
	case string(StallWarning):
		return StallWarning, nil
	}
	return "", fmt.Errorf("unknown stall policy %q (want violation or warning)", s)
}

// Requirement returns what the policy asks of rel at boundary b of rollout r, in
// window w (During or After).
func (p Policy) Requirement(r Rollout, b Boundary, rel Release, w Window) Requirement {
	req := Default(r, b, rel, w)
	for _, o := range p.Overrides {
		if o.Matches(b, rel, w) {
			req = o.Requirement
		}
	}
	return req
}

// Overridden reports whether any override touches (b, rel), so reports can mark
// cells whose requirement is not the default.
func (p Policy) Overridden(b Boundary, rel Release) bool {
	for _, o := range p.Overrides {
		if o.Matches(b, rel, During) || o.Matches(b, rel, After) {
			return true
		}
	}
	return false
}

// Default is the policy table of shared/DESIGN.md:
//
//	baseline  old required,      new not run (required after it when no expand step follows)
//	expand    old required,      new informational (required after the last expand step)
//	migrate   old required,      new required
//	contract  old informational, new required
//
// The new release is deployed at the end of expand: in a rollout without expand
// steps that is the baseline, where it then runs, required.
func Default(r Rollout, b Boundary, rel Release, w Window) Requirement {
	switch b.Phase {
	case Baseline:
		if rel == Old {
			return Required
		}
		if w == After && len(r) > 1 && r.LastOf(Expand) < 0 {
			return Required
		}
		return NotRun
	case Expand:
		if rel == Old {
			return Required
		}
		if w == After && b.Index == r.LastOf(Expand) {
			return Required
		}
		return Informational
	case Migrate:
		return Required
	case Contract:
		if rel == Old {
			return Informational
		}
		return Required
	}
	return Informational
}

// ParseOverride reads an override written as SELECTOR:RELEASE=REQUIREMENT[@WINDOW]
// — "contract:old=required", "expand/0002_add_email:new=informational@during",
// "*:new=skip" — where SELECTOR is *, a phase or PHASE/STEP (see Override).
func ParseOverride(s string) (Override, error) {
	sel, rest, ok := strings.Cut(s, ":")
	rel, req, ok2 := strings.Cut(rest, "=")
	if !ok || !ok2 || sel == "" {
		return Override{}, fmt.Errorf("policy %q: want SELECTOR:RELEASE=REQUIREMENT[@during|after], e.g. contract:old=required", s)
	}
	o := Override{Selector: sel}
	if sel != "*" {
		phase, step, hasStep := strings.Cut(sel, "/")
		if _, err := ParsePhase(phase); err != nil || (hasStep && step == "") {
			return Override{}, fmt.Errorf("policy %q: selector %q: want *, a phase (baseline, expand, migrate, contract) or PHASE/STEP", s, sel)
		}
	}
	var err error
	if o.Release, err = ParseRelease(rel); err != nil {
		return Override{}, fmt.Errorf("policy %q: %w", s, err)
	}
	req, window, hasWindow := strings.Cut(req, "@")
	if o.Requirement, err = ParseRequirement(req); err != nil {
		return Override{}, fmt.Errorf("policy %q: %w", s, err)
	}
	if hasWindow {
		switch Window(window) {
		case During, After:
			o.Window = Window(window)
		default:
			return Override{}, fmt.Errorf("policy %q: window %q: want during or after", s, window)
		}
	}
	return o, nil
}
