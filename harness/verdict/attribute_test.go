package verdict

import (
	"fmt"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
)

// probe marks e as a state probe's execution on session s.
func probe(e observe.Event, s observe.Session) observe.Event {
	e.Probe, e.Session = true, s
	return e
}

func TestAttribution(t *testing.T) {
	missing := func(b int, rel plan.Release, w plan.Window) observe.Event {
		return ev{b, rel, w, "GetEmail"}.err("42703", "undefined-column", `column "email" does not exist`)
	}
	tests := []struct {
		name   string
		events []observe.Event
		// want lists every failure as "boundary release when session violation|info|timing|since=X".
		want     []string
		wantViol []string // "boundary release query when"
		reason   string
	}{{
		name: "a break persisting into later steps is one violation",
		events: []observe.Event{
			probe(missing(bExp1, plan.New, plan.After), observe.Fresh),
			probe(missing(bExp2, plan.New, plan.After), observe.Fresh),
			missing(bMig, plan.New, plan.During),
			probe(missing(bMig, plan.New, plan.After), observe.Fresh),
			missing(bCon, plan.New, plan.During),
		},
		want: []string{
			"expand/0002_add_full_name new after new info",
			"expand/0003_rename_name new after new violation since=expand/0002_add_full_name",
			"migrate/0004_backfill new during - info since=expand/0002_add_full_name",
			"migrate/0004_backfill new after new info since=expand/0002_add_full_name",
			"contract/0005_drop_name new during - info since=expand/0002_add_full_name",
		},
		wantViol: []string{"expand/0003_rename_name new GetEmail after"},
		reason:   "the new release breaks where it is first required; later steps did not break it, a release manager must not read them as breaks",
	}, {
		name: "a break that cleared and came back is a new break",
		events: []observe.Event{
			probe(missing(bExp2, plan.Old, plan.After), observe.Fresh),
			probe(missing(bCon, plan.Old, plan.After), observe.Fresh),
		},
		want: []string{
			"expand/0003_rename_name old after new violation",
			"contract/0005_drop_name old after new info",
		},
		wantViol: []string{"expand/0003_rename_name old GetEmail after"},
		reason:   "migrate had no failure in between: contract's failure is its own (and informational for old)",
	}, {
		name: "traffic only, in no probed state, is a timing finding",
		events: []observe.Event{
			missing(bMig, plan.Old, plan.During),
		},
		want:     []string{"migrate/0004_backfill old during - violation timing"},
		wantViol: []string{"migrate/0004_backfill old GetEmail during timing"},
		reason:   "neither the state before nor after had it: it happened while the step ran; the policy still judges it",
	}, {
		name: "traffic that a probe also met is not a timing finding",
		events: []observe.Event{
			missing(bMig, plan.Old, plan.During),
			func() observe.Event {
				e := probe(missing(bMig, plan.Old, plan.During), observe.LongLived)
				e.AfterStatement = 1
				return e
			}(),
		},
		want: []string{
			"migrate/0004_backfill old during - violation",
			"migrate/0004_backfill old during long-lived violation",
		},
		wantViol: []string{"migrate/0004_backfill old GetEmail during"},
		reason:   "the probe after statement 1 met it in a state: deterministic, one violation",
	}, {
		name: "a failure on the old release's own baseline is a workload error",
		events: []observe.Event{
			probe(missing(bBase, plan.Old, plan.After), observe.Fresh),
			probe(missing(bExp1, plan.Old, plan.After), observe.Fresh),
		},
		want: []string{
			"baseline old after new info workload",
			"expand/0002_add_full_name old after new info since=baseline",
		},
		reason: "the workload is wrong before any step: no violation anywhere, and no 'old breaks at'",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Decide([]RunInput{input(plan.Policy{}, with(tt.events...)...)})
			var got, gotViol []string
			for _, b := range res.Runs[0].Boundaries {
				for _, c := range b.Releases {
					for _, f := range c.Failures {
						got = append(got, describeFailure(b.String(), c.Release, f))
					}
				}
			}
			for _, v := range res.Violations {
				s := fmt.Sprintf("%s %s %s %s", v.Boundary(), v.Release, v.Query, v.When)
				if v.Timing {
					s += " timing"
				}
				gotViol = append(gotViol, s)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("failures (-want +got):\n%s\nreason: %s", diff, tt.reason)
			}
			sort.Strings(gotViol)
			if diff := cmp.Diff(tt.wantViol, gotViol); diff != "" {
				t.Errorf("violations (-want +got):\n%s\nreason: %s", diff, tt.reason)
			}
		})
	}
}

func describeFailure(b string, rel plan.Release, f Failure) string {
	sess := f.Session
	if sess == "" {
		sess = "-"
	}
	s := fmt.Sprintf("%s %s %s %s", b, rel, f.When, sess)
	if f.Violation {
		s += " violation"
	} else {
		s += " info"
	}
	if f.Timing {
		s += " timing"
	}
	if f.Workload {
		s += " workload"
	}
	if f.Since != "" {
		s += " since=" + f.Since
	}
	return s
}
