package verdict

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
)

// The rollout every case uses: two expand steps so "last expand" is distinct.
var testRollout = mustRollout([]plan.StepRef{
	{Name: "0001_init", Phase: plan.Baseline},
	{Name: "0002_add_full_name", Phase: plan.Expand},
	{Name: "0003_rename_name", Phase: plan.Expand},
	{Name: "0004_backfill", Phase: plan.Migrate},
	{Name: "0005_drop_name", Phase: plan.Contract},
})

// Boundary indexes of testRollout.
const (
	bBase = iota
	bExp1
	bExp2 // last expand
	bMig
	bCon
)

func mustRollout(steps []plan.StepRef) plan.Rollout {
	r, err := plan.NewRollout(steps)
	if err != nil {
		panic(err)
	}
	return r
}

const pg = "postgres:15"

// ev builds query events at boundary b of testRollout.
type ev struct {
	b   int
	rel plan.Release
	w   plan.Window
	q   string
}

func (e ev) ok() observe.Event {
	return observe.Event{Kind: observe.KindQuery, Engine: pg, Boundary: testRollout[e.b], Window: e.w,
		Release: e.rel, Query: e.q, Outcome: observe.OK, Latency: time.Millisecond}
}

func (e ev) err(code, class, msg string) observe.Event {
	x := e.ok()
	x.Outcome, x.Code, x.Class, x.Message = observe.Error, code, class, msg
	return x
}

func (e ev) mismatch(msg string) observe.Event {
	x := e.ok()
	x.Outcome, x.Message = observe.Mismatch, msg
	return x
}

func (e ev) stall(wait time.Duration, stmt int, holder string) observe.Event {
	x := e.ok()
	x.Kind, x.Outcome, x.Latency, x.Statement, x.Holder = observe.KindStall, observe.Stalled, wait, stmt, holder
	x.Message = "waited longer than the stall threshold"
	return x
}

func mig(b int) observe.Event {
	return observe.Event{Kind: observe.KindMigration, Engine: pg, Boundary: testRollout[b], Outcome: observe.OK, Latency: 3 * time.Millisecond}
}

func migFail(b, stmt int, code, class, msg string) observe.Event {
	x := mig(b)
	x.Outcome, x.Statement, x.Code, x.Class, x.Message, x.SQL = observe.Error, stmt, code, class, msg, "ALTER TABLE users ..."
	return x
}

// healthy is a run where both releases work everywhere they run.
func healthy() []observe.Event {
	var es []observe.Event
	for b := range testRollout {
		es = append(es, mig(b))
		for _, w := range []plan.Window{plan.During, plan.After} {
			es = append(es, ev{b, plan.Old, w, "GetUser"}.ok())
			if b != bBase {
				es = append(es, ev{b, plan.New, w, "GetUser"}.ok())
			}
		}
	}
	return es
}

func snapshot(es ...observe.Event) observe.Snapshot {
	r := observe.NewRecorder()
	for _, e := range es {
		r.Record(e)
	}
	return r.Snapshot()
}

func input(p plan.Policy, es ...observe.Event) RunInput {
	return RunInput{Scenario: "rename", Engine: pg, ServerVersion: "15.18", Rollout: testRollout,
		Policy: p, Snapshot: snapshot(es...)}
}

func with(extra ...observe.Event) []observe.Event { return append(healthy(), extra...) }

// grid renders a run compactly: one line per boundary, "R" marks a required cell,
// "!" a cell with violations.
func grid(r Run) []string {
	var out []string
	for _, b := range r.Boundaries {
		line := fmt.Sprintf("%s %s", b, b.Migration.Status)
		for _, c := range b.Releases {
			s := string(c.Status)
			if c.Reason != "" {
				s += "(" + c.Reason + ")"
			}
			if c.Required {
				s += " R"
			}
			if c.Violations() > 0 {
				s += " !"
			}
			if c.Overridden {
				s += " O"
			}
			line += fmt.Sprintf(" | %s: %s", c.Release, s)
		}
		out = append(out, line)
	}
	return out
}

var healthyGrid = []string{
	"baseline ok | old: pass R | new: skip(policy)",
	"expand/0002_add_full_name ok | old: pass R | new: pass",
	"expand/0003_rename_name ok | old: pass R | new: pass R",
	"migrate/0004_backfill ok | old: pass R | new: pass R",
	"contract/0005_drop_name ok | old: pass | new: pass R",
}

// replace returns healthyGrid with line i replaced.
func replace(i int, line string) []string {
	g := append([]string(nil), healthyGrid...)
	g[i] = line
	return g
}

func TestDecide(t *testing.T) {
	undefined := func(b int, rel plan.Release, w plan.Window) observe.Event {
		return ev{b, rel, w, "GetUser"}.err("42703", "undefined-column", `column "name" does not exist`)
	}
	viol := func(b int, rel plan.Release, w plan.Window) Violation {
		return Violation{Engine: pg, Phase: testRollout[b].Phase, Step: testRollout[b].Step, Release: rel,
			Query: "GetUser", Code: "42703", Kind: KindError, Scenario: "rename", Class: "undefined-column",
			When: w, Message: `column "name" does not exist`}
	}
	wait := 5200.0
	timing := func(v Violation) Violation { v.Timing = true; return v }

	tests := []struct {
		name        string
		runs        []RunInput
		wantVerdict Verdict
		wantViol    []Violation
		wantGrid    []string // of the first run
		wantBreaks  string   // old_breaks_at of the first run
		reason      string
	}{{
		name:        "healthy",
		runs:        []RunInput{input(plan.Policy{}, healthy()...)},
		wantVerdict: Compatible,
		wantGrid:    healthyGrid,
		reason:      "both releases pass everywhere they run; new does not run at the baseline",
	}, {
		name:        "baseline old fails",
		runs:        []RunInput{input(plan.Policy{}, with(undefined(bBase, plan.Old, plan.After))...)},
		wantVerdict: Compatible,
		wantGrid:    replace(bBase, "baseline ok | old: fail R | new: skip(policy)"),
		reason:      "a query failing on its own release's baseline is a workload error, never a violation",
	}, {
		name:        "expand old fails",
		runs:        []RunInput{input(plan.Policy{}, with(undefined(bExp2, plan.Old, plan.After))...)},
		wantVerdict: Incompatible,
		wantViol:    []Violation{viol(bExp2, plan.Old, plan.After)},
		wantGrid:    replace(bExp2, "expand/0003_rename_name ok | old: fail R ! | new: pass R"),
		wantBreaks:  "expand/0003_rename_name",
		reason:      "old is required through expand: the naive rename breaks it",
	}, {
		name:        "expand new fails before the last expand step",
		runs:        []RunInput{input(plan.Policy{}, with(undefined(bExp1, plan.New, plan.After))...)},
		wantVerdict: Compatible,
		wantGrid:    replace(bExp1, "expand/0002_add_full_name ok | old: pass R | new: fail"),
		reason:      "new is informational in expand until after the last expand step",
	}, {
		name:        "last expand new fails after",
		runs:        []RunInput{input(plan.Policy{}, with(undefined(bExp2, plan.New, plan.After))...)},
		wantVerdict: Incompatible,
		wantViol:    []Violation{viol(bExp2, plan.New, plan.After)},
		wantGrid:    replace(bExp2, "expand/0003_rename_name ok | old: pass R | new: fail R !"),
		reason:      "new is required after the last expand step",
	}, {
		name:        "last expand new fails during",
		runs:        []RunInput{input(plan.Policy{}, with(undefined(bExp2, plan.New, plan.During))...)},
		wantVerdict: Compatible,
		wantGrid:    replace(bExp2, "expand/0003_rename_name ok | old: pass R | new: fail R"),
		reason:      "the cell is required (after) but the failure happened during the step, which is informational",
	}, {
		name: "migrate both fail",
		runs: []RunInput{input(plan.Policy{}, with(
			undefined(bMig, plan.New, plan.During), undefined(bMig, plan.Old, plan.After))...)},
		wantVerdict: Incompatible,
		wantViol:    []Violation{viol(bMig, plan.Old, plan.After), timing(viol(bMig, plan.New, plan.During))},
		wantGrid:    replace(bMig, "migrate/0004_backfill ok | old: fail R ! | new: fail R !"),
		wantBreaks:  "migrate/0004_backfill",
		reason:      "both releases are required in migrate; violations list old first",
	}, {
		name:        "contract old fails",
		runs:        []RunInput{input(plan.Policy{}, with(undefined(bCon, plan.Old, plan.After))...)},
		wantVerdict: Compatible,
		wantGrid:    replace(bCon, "contract/0005_drop_name ok | old: fail | new: pass R"),
		wantBreaks:  "contract/0005_drop_name",
		reason:      "old failing in contract is informational: the point of no return",
	}, {
		name:        "contract new fails",
		runs:        []RunInput{input(plan.Policy{}, with(undefined(bCon, plan.New, plan.After))...)},
		wantVerdict: Incompatible,
		wantViol:    []Violation{viol(bCon, plan.New, plan.After)},
		wantGrid:    replace(bCon, "contract/0005_drop_name ok | old: pass | new: fail R !"),
		reason:      "new is required in contract",
	}, {
		name: "override makes contract old required",
		runs: []RunInput{input(plan.Policy{Overrides: []plan.Override{{Selector: "contract", Release: plan.Old, Requirement: plan.Required}}},
			with(undefined(bCon, plan.Old, plan.After))...)},
		wantVerdict: Incompatible,
		wantViol:    []Violation{viol(bCon, plan.Old, plan.After)},
		wantGrid:    replace(bCon, "contract/0005_drop_name ok | old: fail R ! O | new: pass R"),
		wantBreaks:  "contract/0005_drop_name",
		reason:      "a scenario that keeps old running through contract",
	}, {
		name: "override relaxes one expand step",
		runs: []RunInput{input(plan.Policy{Overrides: []plan.Override{{Selector: "expand/0003_rename_name", Release: plan.Old, Requirement: plan.Informational}}},
			with(undefined(bExp2, plan.Old, plan.After))...)},
		wantVerdict: Compatible,
		wantGrid:    replace(bExp2, "expand/0003_rename_name ok | old: fail O | new: pass R"),
		wantBreaks:  "expand/0003_rename_name",
		reason:      "a step-selector override makes old informational at that step only",
	}, {
		name: "override skips new",
		runs: []RunInput{input(plan.Policy{Overrides: []plan.Override{{Selector: "migrate", Release: plan.New, Requirement: plan.NotRun}}},
			without(healthy(), bMig, plan.New)...)},
		wantVerdict: Compatible,
		wantGrid:    replace(bMig, "migrate/0004_backfill ok | old: pass R | new: skip(policy) O"),
		reason:      "an override that does not run new in migrate: skipped by policy, marked overridden",
	}, {
		name:        "nothing observed",
		runs:        []RunInput{input(plan.Policy{})},
		wantVerdict: Compatible,
		wantGrid: []string{
			"baseline not-run | old: skip(not-applied) R | new: skip(not-applied)",
			"expand/0002_add_full_name not-run | old: skip(not-applied) R | new: skip(not-applied)",
			"expand/0003_rename_name not-run | old: skip(not-applied) R | new: skip(not-applied) R",
			"migrate/0004_backfill not-run | old: skip(not-applied) R | new: skip(not-applied) R",
			"contract/0005_drop_name not-run | old: skip(not-applied) | new: skip(not-applied) R",
		},
		reason: "every step is not-run; the CLI is expected to pass an EnvError when a run did not complete",
	}, {
		name: "migration fails",
		runs: []RunInput{input(plan.Policy{}, append(healthyUpTo(bMig),
			ev{bMig, plan.Old, plan.During, "GetUser"}.ok(),
			migFail(bMig, 2, "23502", "not-null", `column "full_name" of relation "users" contains null values`))...)},
		wantVerdict: Incompatible,
		wantViol: []Violation{{Engine: pg, Phase: plan.Migrate, Step: "0004_backfill", Code: "23502", Kind: KindMigration,
			Scenario: "rename", Class: "not-null", Message: `column "full_name" of relation "users" contains null values`, Statement: 2,
			Explain: &Explanation{Cause: "statement 2 of the step failed on the rows already in the table", Pattern: "3. Add NOT NULL column",
				Recipe:  "add the column nullable or with a default in expand, backfill in migrate, and make it NOT NULL in contract",
				Example: "scenarios/cookbook/add_column_not_null_default.txtar"}}},
		wantGrid: []string{
			healthyGrid[0], healthyGrid[1], healthyGrid[2],
			"migrate/0004_backfill failed | old: pass R | new: skip(no-executions) R",
			"contract/0005_drop_name not-run | old: skip(not-applied) | new: skip(not-applied) R",
		},
		reason: "a failed step is a violation and the runner stops: later steps are not run",
	}, {
		name: "stall",
		runs: []RunInput{input(plan.Policy{}, with(
			ev{bExp2, plan.Old, plan.During, "CreateUser"}.stall(5200*time.Millisecond, 1, "pid 4242: ALTER TABLE users RENAME COLUMN name TO full_name"))...)},
		wantVerdict: Incompatible,
		wantViol: []Violation{{Engine: pg, Phase: plan.Expand, Step: "0003_rename_name", Release: plan.Old, Query: "CreateUser",
			Kind: KindStall, Scenario: "rename", When: plan.During, Message: "waited longer than the stall threshold",
			Statement: 1, WaitMS: &wait, Holder: "pid 4242: ALTER TABLE users RENAME COLUMN name TO full_name"}},
		wantGrid: replace(bExp2, "expand/0003_rename_name ok | old: fail R ! | new: pass R"),
		reason:   "a stall of a required release is a violation; it does not make old break",
	}, {
		name: "mismatch",
		runs: []RunInput{input(plan.Policy{}, with(
			ev{bMig, plan.Old, plan.After, "CountUsers"}.mismatch("want 3 rows, got 2"))...)},
		wantVerdict: Incompatible,
		wantViol: []Violation{{Engine: pg, Phase: plan.Migrate, Step: "0004_backfill", Release: plan.Old, Query: "CountUsers",
			Kind: KindResult, Scenario: "rename", When: plan.After, Message: "want 3 rows, got 2"}},
		wantGrid:   replace(bMig, "migrate/0004_backfill ok | old: fail R ! | new: pass R"),
		wantBreaks: "migrate/0004_backfill",
		reason:     "a wrong result is a violation of kind result",
	}, {
		name: "transient class",
		runs: []RunInput{input(plan.Policy{}, with(
			ev{bExp2, plan.Old, plan.During, "UpdateUser"}.err("55P03", "lock-timeout", "canceling statement due to lock timeout"))...)},
		wantVerdict: Compatible,
		wantGrid:    replace(bExp2, "expand/0003_rename_name ok | old: fail R | new: pass R"),
		reason:      "lock timeouts are reported (status fail) but are not violations and do not break old",
	}, {
		name: "before window judged by the previous boundary",
		runs: []RunInput{input(plan.Policy{}, with(
			undefined(bCon, plan.Old, plan.Before))...)},
		wantVerdict: Incompatible,
		wantViol:    []Violation{timing(viol(bCon, plan.Old, plan.Before))},
		wantGrid:    replace(bCon, "contract/0005_drop_name ok | old: fail ! | new: pass R"),
		reason:      "before the contract step old still sees the migrate schema, where it is required; met by traffic only, it is a timing finding, which does not say where old breaks",
	}, {
		name: "same break during and after is one violation",
		runs: []RunInput{input(plan.Policy{}, with(
			undefined(bExp2, plan.Old, plan.During), undefined(bExp2, plan.Old, plan.After))...)},
		wantVerdict: Incompatible,
		wantViol:    []Violation{viol(bExp2, plan.Old, plan.During)},
		wantGrid:    replace(bExp2, "expand/0003_rename_name ok | old: fail R ! | new: pass R"),
		wantBreaks:  "expand/0003_rename_name",
		reason:      "the cell lists both failures; the violation is reported once, at its first occurrence",
	}, {
		name: "env error",
		runs: []RunInput{func() RunInput {
			in := input(plan.Policy{}, healthyUpTo(bExp2)...)
			in.EnvError = "connection lost: unexpected EOF"
			return in
		}()},
		wantVerdict: EnvError,
		wantGrid: []string{
			healthyGrid[0], healthyGrid[1],
			"expand/0003_rename_name not-run | old: skip(not-applied) R | new: skip(not-applied) R",
			"migrate/0004_backfill not-run | old: skip(not-applied) R | new: skip(not-applied) R",
			"contract/0005_drop_name not-run | old: skip(not-applied) | new: skip(not-applied) R",
		},
		reason: "an environment failure certifies nothing: the verdict is error, not compatible",
	}, {
		name: "env error with a violation",
		runs: []RunInput{
			func() RunInput {
				in := input(plan.Policy{}, with(undefined(bExp2, plan.Old, plan.After))...)
				in.Engine = "mysql:8.4"
				in.EnvError = "engine did not start"
				for i := range in.Snapshot.Cells {
					in.Snapshot.Cells[i].Key.Engine = "" // tolerated: unset engine
				}
				in.Snapshot.Migrations = nil
				return in
			}(),
			input(plan.Policy{}, with(undefined(bExp2, plan.Old, plan.After))...),
		},
		wantVerdict: Incompatible,
		wantViol: func() []Violation {
			v := viol(bExp2, plan.Old, plan.After)
			w := v
			w.Engine = "mysql:8.4"
			return []Violation{w, v}
		}(),
		wantGrid: []string{
			"baseline ok | old: pass R | new: skip(policy)",
			"expand/0002_add_full_name not-run | old: pass R | new: pass",
			"expand/0003_rename_name not-run | old: fail R ! | new: pass R",
			"migrate/0004_backfill not-run | old: pass R | new: pass R",
			"contract/0005_drop_name not-run | old: pass | new: pass R",
		},
		wantBreaks: "expand/0003_rename_name",
		reason:     "violations found before the failure stand; violations are ordered by run",
	}, {
		name: "other engines ignored",
		runs: []RunInput{input(plan.Policy{}, with(func() observe.Event {
			e := undefined(bExp2, plan.Old, plan.After)
			e.Engine = "mysql:8.4"
			return e
		}())...)},
		wantVerdict: Compatible,
		wantGrid:    healthyGrid,
		reason:      "a shared recorder: only this run's engine counts",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.runs)
			if got.Verdict != tt.wantVerdict {
				t.Errorf("verdict = %s, want %s (%s)", got.Verdict, tt.wantVerdict, tt.reason)
			}
			if tt.wantViol == nil {
				tt.wantViol = []Violation{}
			}
			if diff := cmp.Diff(tt.wantViol, got.Violations); diff != "" {
				t.Errorf("violations (-want +got):\n%s\nreason: %s", diff, tt.reason)
			}
			if diff := cmp.Diff(tt.wantGrid, grid(got.Runs[0])); diff != "" {
				t.Errorf("grid (-want +got):\n%s\nreason: %s", diff, tt.reason)
			}
			if got.Runs[0].OldBreaksAt != tt.wantBreaks {
				t.Errorf("old_breaks_at = %q, want %q (%s)", got.Runs[0].OldBreaksAt, tt.wantBreaks, tt.reason)
			}
			n := 0
			for _, r := range got.Runs {
				n += r.Violations()
			}
			if n != len(got.Violations) {
				t.Errorf("sum of Run.Violations() = %d, want %d", n, len(got.Violations))
			}
			wantEnv := false
			for _, r := range tt.runs {
				wantEnv = wantEnv || r.EnvError != ""
			}
			if got.EnvFailure() != wantEnv {
				t.Errorf("EnvFailure() = %v, want %v", got.EnvFailure(), wantEnv)
			}
		})
	}
}

// without drops the events of rel at boundary b.
func without(es []observe.Event, b int, rel plan.Release) []observe.Event {
	var out []observe.Event
	for _, e := range es {
		if e.Boundary.Index != b || e.Release != rel || e.Kind == observe.KindMigration {
			out = append(out, e)
		}
	}
	return out
}

// healthyUpTo is healthy() for the boundaries before b only.
func healthyUpTo(b int) []observe.Event {
	var out []observe.Event
	for _, e := range healthy() {
		if e.Boundary.Index < b {
			out = append(out, e)
		}
	}
	return out
}

func TestDecideCellDetail(t *testing.T) {
	es := with(
		ev{bExp2, plan.Old, plan.After, "ListUsers"}.err("42703", "undefined-column", `column "name" does not exist`),
		ev{bExp2, plan.Old, plan.During, "GetUser"}.err("42703", "undefined-column", `column "name" does not exist`),
		ev{bExp2, plan.Old, plan.During, "GetUser"}.err("42703", "undefined-column", `column "name" does not exist`),
		ev{bExp2, plan.Old, plan.During, "UpdateUser"}.err("55P03", "lock-timeout", "canceling statement due to lock timeout"),
	)
	got := Decide([]RunInput{input(plan.Policy{}, es...)}).WithoutTimings()
	cell := got.Runs[0].Boundaries[bExp2].Releases.Get(plan.Old)
	want := &Cell{
		Release: plan.Old, Required: true, Status: Fail,
		Policy:     CellPolicy{During: plan.Required, After: plan.Required},
		Executions: 6,
		Failures: []Failure{
			{Query: "ListUsers", Code: "42703", Message: `column "name" does not exist`, When: plan.After, Kind: KindError,
				Class: "undefined-column", Count: 1, Required: true, Violation: true},
			{Query: "GetUser", Code: "42703", Message: `column "name" does not exist`, When: plan.During, Kind: KindError,
				Class: "undefined-column", Count: 2, Required: true, Violation: true, Timing: true},
			{Query: "UpdateUser", Code: "55P03", Message: "canceling statement due to lock timeout", When: plan.During, Kind: KindError,
				Class: "lock-timeout", Count: 1, Required: true, Transient: true, Timing: true},
		},
	}
	if diff := cmp.Diff(want, cell); diff != "" {
		t.Errorf("cell (-want +got):\n%s\nreason: failures keep their order of first occurrence across windows", diff)
	}
	wantViol := []string{"old GetUser during", "old ListUsers after"}
	var gotViol []string
	for _, v := range got.Violations {
		gotViol = append(gotViol, fmt.Sprintf("%s %s %s", v.Release, v.Query, v.When))
	}
	if diff := cmp.Diff(wantViol, gotViol); diff != "" {
		t.Errorf("violations (-want +got):\n%s\nreason: violations are ordered by query", diff)
	}
}

func TestTimings(t *testing.T) {
	got := Decide([]RunInput{input(plan.Policy{}, with(
		ev{bExp2, plan.Old, plan.During, "CreateUser"}.stall(1500*time.Millisecond, 1, "pid 1"))...)})
	b := got.Runs[0].Boundaries[bExp2]
	if d := b.Migration.DurationMS; d == nil || *d != 3 {
		t.Errorf("duration_ms = %v, want 3", d)
	}
	old := b.Releases.Get(plan.Old)
	if l := old.Latency; l == nil || l.MaxMS != 1 {
		t.Errorf("latency = %+v, want max 1ms", l)
	}
	if w := old.Failures[0].WaitMS; w == nil || *w != 1500 {
		t.Errorf("wait_ms = %v, want 1500", w)
	}
	stripped := got.WithoutTimings()
	js, err := json.Marshal(stripped)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"duration_ms", "latency", "p50_ms", "wait_ms"} {
		if strings.Contains(string(js), field) {
			t.Errorf("WithoutTimings JSON contains %q", field)
		}
	}
	if got.Runs[0].Boundaries[bExp2].Migration.DurationMS == nil {
		t.Errorf("WithoutTimings modified its receiver")
	}
}

func TestReleasesJSON(t *testing.T) {
	rs := Releases{
		{Release: plan.Old, Required: true, Status: Fail, Policy: CellPolicy{plan.Required, plan.Required},
			Failures: []Failure{{Query: "Q", Message: "a < b & c", Kind: KindResult}}},
		{Release: plan.New, Status: Pass, Policy: CellPolicy{plan.Informational, plan.Informational}, Failures: []Failure{}},
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rs); err != nil {
		t.Fatal(err)
	}
	js := strings.TrimSpace(buf.String())
	if !strings.HasPrefix(string(js), `{"old":{"required":true,"status":"fail"`) || !strings.Contains(string(js), `,"new":{`) {
		t.Errorf("releases JSON = %s, want an object with old first", js)
	}
	if !strings.Contains(string(js), `"a < b & c"`) {
		t.Errorf("releases JSON = %s, want messages without HTML escaping", js)
	}
	var back Releases
	if err := json.Unmarshal([]byte(js), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rs, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// TestTransientMatchesEngine keeps transientClasses in step with engine.Class.Transient.
func TestTransientMatchesEngine(t *testing.T) {
	for _, c := range engine.Classes {
		if got, want := isTransient(string(c)), c.Transient(); got != want {
			t.Errorf("isTransient(%q) = %v, engine says %v", c, got, want)
		}
	}
	for c := range transientClasses {
		if _, err := engine.ParseClass(c); err != nil {
			t.Errorf("transient class %q is not an engine class: %v", c, err)
		}
	}
}

func TestBaselineStepsFold(t *testing.T) {
	tests := []struct {
		name   string
		events []observe.Event
		want   Migration
		reason string
	}{{
		name:   "times add up",
		events: []observe.Event{mig(bBase), mig(bBase)},
		want:   Migration{Status: MigrationOK, DurationMS: ptr(6.0)},
		reason: "every baseline step is recorded at the baseline boundary",
	}, {
		name:   "first failure wins",
		events: []observe.Event{mig(bBase), migFail(bBase, 1, "42P07", "other", "relation exists"), mig(bBase)},
		want: Migration{Status: MigrationFailed, Code: "42P07", Class: "other", Message: "relation exists",
			Statement: 1, SQL: "ALTER TABLE users ...", DurationMS: ptr(9.0)},
		reason: "a failed baseline step fails the boundary",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide([]RunInput{input(plan.Policy{}, tt.events...)}).Runs[0].Boundaries[bBase].Migration
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("baseline migration (-want +got):\n%s\nreason: %s", diff, tt.reason)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestNewReleaseGeneratedArguments: the new release does not run at the
// baseline; where arguments straddle generated break a constraint at the first
// boundary it runs in, from its first execution on, the arguments are to blame
// (a workload error), not the step. With arguments from the file, or another
// class of failure, it stays the step's violation.
func TestNewReleaseGeneratedArguments(t *testing.T) {
	// The new release's CreateAccount breaks a foreign key from bExp1 on.
	var es []observe.Event
	for b := bExp1; b < len(testRollout); b++ {
		es = append(es, ev{b, plan.New, plan.After, "CreateAccount"}.err("23503", "foreign-key", "violates foreign key constraint"))
	}
	const insert = "INSERT INTO accounts (owner_id, name) VALUES ((SELECT id FROM owners WHERE email = $1), $2)"
	tests := []struct {
		name      string
		generated []string
		class     string
		code      string
		message   string
		oldSQL    string // the old release's CreateAccount, failing on the old baseline
		wantWE    int
		wantViol  int
		reason    string
	}{
		{"generated", []string{"CreateAccount"}, "foreign-key", "23503", "violates foreign key constraint", "", 1, 0, "the generated key is not there: the arguments' fault"},
		{"from the file", nil, "foreign-key", "23503", "violates foreign key constraint", "", 0, 1, "the workload gave the arguments: a finding at the first required boundary"},
		{"another class", []string{"CreateAccount"}, "undefined-column", "42703", `column "nick" does not exist`, "", 0, 1, "no argument makes a column exist"},
		{"a made-up enum label", []string{"CreateAccount"}, "invalid-value", "22P02", `invalid input value for enum account_kind: "gen31"`, "", 1, 0, "the generated text is no label of the enum (listmonk)"},
		{"a made-up date", []string{"CreateAccount"}, "other", "22007", `invalid input syntax for type interval: "gen910"`, "", 1, 0, "the generated text is no interval (conductor)"},
		{"a lookup that found nothing", []string{"CreateAccount"}, "not-null", "23502", `null value in column "owner_id" of relation "accounts" violates not-null constraint`, "", 1, 0,
			"the query writes owner_id from a lookup of a generated key: the arguments' fault (FTL)"},
		{"a column the query leaves out", []string{"CreateAccount"}, "not-null", "23502", `null value in column "created_by" of relation "accounts" violates not-null constraint`, "", 0, 1,
			"the query does not write created_by: no argument would set it"},
		{"the old release's own problem", nil, "undefined-table", "42P01", `relation "schema_version" does not exist`, insert, 2, 0,
			"the same query failed the same way on the old baseline: one workload problem, not the step's (Temporal)"},
		{"the old release's query, another failure", nil, "undefined-table", "42P01", `relation "schema_version" does not exist`, "SELECT 1", 1, 1,
			"another text: the new release's failure is its own"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := append([]observe.Event(nil), es...)
			for i := range evs {
				evs[i].Class, evs[i].Code, evs[i].Message = tt.class, tt.code, tt.message
			}
			if tt.oldSQL != "" {
				evs = append(evs, ev{bBase, plan.Old, plan.After, "CreateAccount"}.err(tt.code, tt.class, tt.message))
			}
			in := input(plan.Policy{}, with(evs...)...)
			in.GeneratedArgs = map[plan.Release][]string{plan.New: tt.generated}
			in.Texts = map[plan.Release]map[string]string{plan.New: {"CreateAccount": insert}, plan.Old: {"CreateAccount": tt.oldSQL}}
			res := Decide([]RunInput{in})
			if len(res.WorkloadErrors) != tt.wantWE || len(res.Violations) != tt.wantViol {
				t.Fatalf("workload errors %d, violations %d; want %d, %d (%s)\n%+v\n%+v", len(res.WorkloadErrors), len(res.Violations), tt.wantWE, tt.wantViol, tt.reason, res.WorkloadErrors, res.Violations)
			}
			for _, we := range res.WorkloadErrors {
				if we.Release == plan.New && we.Boundary != testRollout[bExp1].String() {
					t.Errorf("new's workload error at %q, want %s", we.Boundary, testRollout[bExp1])
				}
			}
		})
	}
}

// TestValueRewritten: a read's values that changed across a step are the
// step's finding only where the step can have rewritten them (truth pass:
// a migrate step seeding a row made count(*) a "wrong result"; a backfill of
// another column fired an updated_at trigger).
func TestValueRewritten(t *testing.T) {
	b := plan.Boundary{Phase: plan.Migrate, Step: "0003_step"}
	tests := []struct {
		step, query, message string
		want                 bool
		reason               string
	}{
		{"UPDATE prices SET amount = amount * 100", "SELECT amount FROM prices WHERE id = $1", "column amount reads 1250.00 where it read 12.50", true, "the step rewrites the column read"},
		{"INSERT INTO plans VALUES (3, 'team')", "SELECT count(*) FROM plans", "column count reads 3 where it read 2", false, "a seed adds rows: no reader breaks on a count"},
		{"ALTER TABLE plans ADD COLUMN note text", "SELECT name FROM plans WHERE id = $1", "column name reads b where it read a", false, "no statement rewrites rows"},
		{"UPDATE items SET sku = code", "SELECT updated_at FROM items WHERE id = $1", "column updated_at reads 2026-12-03 where it read 2020-01-01", false, "a trigger's side effect on a column the step does not name"},
		{"UPDATE items SET updated_at = now()", "SELECT updated_at FROM items WHERE id = $1", "column updated_at reads 2026-12-03 where it read 2020-01-01", true, "the step writes it"},
		{"UPDATE orders SET amount = amount * 100", "SELECT amount AS total FROM orders WHERE id = $1", "column total reads 1250 where it read 12.5", true, "an alias: straddle cannot tell the column, the step rewrites the table"},
		{"DELETE FROM plans WHERE id = 2", "SELECT name FROM plans WHERE id = $1", "returns 0 rows where it returned 1", true, "rows deleted under a reader"},
		{"UPDATE t SET a = 1", "SELECT * FROM t", "column b reads 2 where it read 1", true, "a star names no column: keep"},
		{"ALTER TABLE prices ALTER COLUMN amount TYPE numeric(10,0)", "SELECT amount FROM prices WHERE id = $1", "column amount reads 13 where it read 12.50", true, "a type change converts the values"},
		{"ALTER TABLE prices MODIFY amount DECIMAL(10,0)", "SELECT amount FROM prices WHERE id = ?", "column amount reads 13 where it read 12.50", true, "MySQL's MODIFY too"},
	}
	for _, tt := range tests {
		in := RunInput{StepSQL: map[string]string{"0003_step": tt.step}, Texts: map[plan.Release]map[string]string{plan.Old: {"Q": tt.query}}}
		if got := in.valueRewritten(b, plan.Old, "Q", tt.message); got != tt.want {
			t.Errorf("step %q, query %q, %q: %v, want %v (%s)", tt.step, tt.query, tt.message, got, tt.want, tt.reason)
		}
	}
	if !(RunInput{}).valueRewritten(b, plan.Old, "Q", "column a reads 2 where it read 1") {
		t.Error("a step straddle has no text for (an external command) may rewrite anything")
	}
}

// TestGeneratedArgumentsWhereTheQueryFirstRuns: a query of the new release whose
// table a later step creates first fails for want of it; where the table is
// there, the arguments straddle generated meet its constraints for the first
// time, and their failure is theirs (e2b, opentdf, goalert: violations of the
// last expand step that no change explained). A query already a workload error
// is not judged again when arguments break it anew (a duplicate where a key was
// missing), but a missing object still is.
func TestGeneratedArgumentsWhereTheQueryFirstRuns(t *testing.T) {
	t.Run("table from a later step", func(t *testing.T) {
		in := input(plan.Policy{}, with(
			ev{bExp1, plan.New, plan.After, "CreateLimit"}.err("42P01", "undefined-table", `relation "limits" does not exist`),
			ev{bExp2, plan.New, plan.After, "CreateLimit"}.err("23503", "foreign-key", "violates foreign key constraint"),
			ev{bMig, plan.New, plan.After, "CreateLimit"}.err("23503", "foreign-key", "violates foreign key constraint"),
			ev{bCon, plan.New, plan.After, "CreateLimit"}.err("23503", "foreign-key", "violates foreign key constraint"),
		)...)
		in.GeneratedArgs = map[plan.Release][]string{plan.New: {"CreateLimit"}}
		res := Decide([]RunInput{in})
		var fk []WorkloadError
		for _, w := range res.WorkloadErrors {
			if w.Code == "23503" {
				fk = append(fk, w)
			}
		}
		if len(fk) != 1 || fk[0].Boundary != testRollout[bExp2].String() {
			t.Errorf("workload errors %+v, want the foreign key at %s, where the query first reached its table", res.WorkloadErrors, testRollout[bExp2])
		}
		for _, v := range res.Violations {
			if v.Code == "23503" {
				t.Errorf("violation %+v: the generated key's failure is the arguments'", v)
			}
		}
	})
	t.Run("a workload error breaks anew", func(t *testing.T) {
		in := input(plan.Policy{}, with(
			ev{bBase, plan.Old, plan.After, "AddSeat"}.err("23503", "foreign-key", "violates foreign key constraint"),
			ev{bExp1, plan.Old, plan.After, "AddSeat"}.err("23505", "unique", "duplicate key value violates unique constraint"),
			ev{bExp2, plan.Old, plan.After, "Upsert"}.err("42P10", "no-conflict-target", "there is no unique or exclusion constraint matching the ON CONFLICT specification"),
			ev{bBase, plan.Old, plan.After, "Upsert"}.err("23503", "foreign-key", "violates foreign key constraint"),
		)...)
		in.GeneratedArgs = map[plan.Release][]string{plan.Old: {"AddSeat", "Upsert"}}
		res := Decide([]RunInput{in})
		var got []string
		for _, v := range res.Violations {
			got = append(got, v.Query+" "+v.Code)
		}
		if diff := cmp.Diff([]string{"Upsert 42P10"}, got); diff != "" {
			t.Errorf("violations (-want +got):\n%s\nAddSeat's duplicate is its arguments' again; Upsert's lost ON CONFLICT target is the step's", diff)
		}
	})
}
