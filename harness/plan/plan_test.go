package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultPolicy(t *testing.T) {
	r, err := NewRollout([]StepRef{
		{"0001_base", Baseline}, {"0002_add", Expand}, {"0003_trig", Expand},
		{"0004_fill", Migrate}, {"0005_drop", Contract},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(r), 5; got != want { // baseline steps fold into one boundary
		t.Fatalf("len(rollout) = %d, want %d", got, want)
	}
	for _, c := range []struct {
		name   string
		b      int
		rel    Release
		w      Window
		want   Requirement
		reason string
	}{
		{"baseline old", 0, Old, After, Required, "the old release runs on the baseline"},
		{"baseline new", 0, New, After, NotRun, "the new release is not deployed yet"},
		{"first expand new", 1, New, After, Informational, "new is only required after the last expand step"},
		{"last expand new after", 2, New, After, Required, "new must work once expand is done"},
		{"last expand new during", 2, New, During, Informational, "during the last expand step the schema is not there yet"},
		{"expand old", 1, Old, During, Required, "old is live through expand"},
		{"migrate both", 3, New, During, Required, "both releases run during migrate"},
		{"contract old", 4, Old, After, Informational, "contract is the point of no return for old"},
		{"contract new", 4, New, After, Required, "new must survive the contract"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := (Policy{}).Requirement(r, r[c.b], c.rel, c.w); got != c.want {
				t.Errorf("Requirement(%s, %s, %s) = %s, want %s (%s)", r[c.b], c.rel, c.w, got, c.want, c.reason)
			}
		})
	}
}

func TestOverrides(t *testing.T) {
	r, _ := NewRollout([]StepRef{{"0002_add", Expand}, {"0003_drop", Contract}})
	p := Policy{Overrides: []Override{
		{Selector: "contract", Release: Old, Requirement: Required},
		{Selector: "expand/0002_add", Release: New, Window: During, Requirement: NotRun},
	}}
	got := []Requirement{
		p.Requirement(r, r[2], Old, After),
		p.Requirement(r, r[1], New, During),
		p.Requirement(r, r[1], New, After),
	}
	want := []Requirement{Required, NotRun, Required}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requirements (-want +got):\n%s", d)
	}
	if !p.Overridden(r[2], Old) || p.Overridden(r[2], New) {
		t.Errorf("Overridden: contract/old should be, contract/new should not")
	}
}

func TestRolloutRejectsBackwardPhases(t *testing.T) {
	_, err := NewRollout([]StepRef{{"0002_drop", Contract}, {"0003_add", Expand}})
	if err == nil {
		t.Fatal("expand after contract accepted")
	}
}

func TestWindowOrder(t *testing.T) {
	if !(Before.Order() < During.Order() && During.Order() < After.Order()) {
		t.Errorf("window order: before %d, during %d, after %d", Before.Order(), During.Order(), After.Order())
	}
}
