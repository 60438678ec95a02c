package observe

import (
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/plan"
)

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ { // 1ms … 1000ms
		h.Record(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, 1000 * time.Millisecond}} {
		got := h.Quantile(c.q)
		if diff := got - c.want; diff < -c.want/16 || diff > c.want/16 { // 1/2^subBits relative error
			t.Errorf("Quantile(%v) = %v, want %v ± 6.25%%", c.q, got, c.want)
		}
	}
	if h.Max() != time.Second || h.Count() != 1000 {
		t.Errorf("Max = %v, Count = %d", h.Max(), h.Count())
	}
	if h.Quantile(1) > h.Max() {
		t.Errorf("a quantile exceeds the max")
	}
}

func TestRecorderFoldsDistinctFailures(t *testing.T) {
	r := NewRecorder()
	b := plan.Boundary{Index: 1, Phase: plan.Expand, Step: "0002"}
	ev := func(o Outcome, code string) Event {
		return Event{Kind: KindQuery, Engine: "pg", Boundary: b, Window: plan.After, Release: plan.Old, Query: "GetUser", Outcome: o, Code: code, Message: "m" + code}
	}
	r.Record(ev(OK, ""))
	r.Record(ev(Error, "42703"))
	r.Record(ev(Error, "42703"))
	r.Record(ev(Error, "42P01"))
	s := r.Snapshot()
	if len(s.Cells) != 1 {
		t.Fatalf("cells = %d, want 1", len(s.Cells))
	}
	c := s.Cells[0]
	if c.Count != 4 || c.Errors != 3 || len(c.Failures) != 2 || c.Failures[0].Count != 2 || c.Failures[0].Code != "42703" {
		t.Errorf("cell = count %d errors %d failures %+v; want 4, 3, [42703×2, 42P01×1]", c.Count, c.Errors, c.Failures)
	}
}
