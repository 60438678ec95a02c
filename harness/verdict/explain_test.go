package verdict

import (
	"testing"

	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/schema"
)

func TestExplain(t *testing.T) {
	col := func(op schema.Op, name, detail, before string) schema.Change {
		return schema.Change{Op: op, Object: schema.Object{Kind: schema.Column, Table: "users", Name: name, Detail: detail}, Before: before}
	}
	renamed := []schema.Change{col(schema.Renamed, "full_name", "varchar(100)", "name")}
	tests := []struct {
		name        string
		v           Violation
		diff        []schema.Change
		read        bool
		wantPattern string
		wantCause   string
		reason      string
	}{
		{"rename", Violation{Kind: KindError, Class: "undefined-column", Release: plan.Old, Message: `column "name" does not exist`}, renamed, true,
			"4. Rename column", "column users.name renamed to full_name by this step", "the message names the old column"},
		{"drop", Violation{Kind: KindError, Class: "undefined-column", Release: plan.Old, Message: "Unknown column 'nick' in 'field list'"},
			[]schema.Change{col(schema.Dropped, "nick", "varchar(20)", "")}, true, "5. Drop column", "column users.nick dropped by this step", "MySQL's words"},
		{"unrelated change", Violation{Kind: KindError, Class: "undefined-column", Release: plan.Old, Message: `column "email" does not exist`}, renamed, true,
			"", "", "the step renamed another column: say nothing rather than guess"},
		{"stale plan", Violation{Kind: KindError, Class: "stale-plan", Release: plan.Old, Message: "cached plan must not change result type"},
			[]schema.Change{col(schema.Added, "email", "varchar(200)", "")}, true, "1. Add nullable column (Evidence: stale prepared statements)", "column users.email varchar(200) added by this step", "SELECT * over ADD COLUMN"},
		{"new needs a later step", Violation{Kind: KindError, Class: "undefined-column", Release: plan.New, Message: `column "email" does not exist`},
			[]schema.Change{col(schema.Added, "nick", "varchar(20)", "")}, true, "Phases: expand before the new release", "the new release names an object that no step up to here creates", "a phase mistake"},
		{"values rewritten", Violation{Kind: KindResult, Code: "value", Release: plan.Old}, nil, true,
			"6. Change column type (values)", "the step rewrote data the release reads, without changing the schema", "an UPDATE in place"},
		{"no catalog", Violation{Kind: KindError, Class: "undefined-column", Release: plan.Old, Message: `column "name" does not exist`}, nil, false,
			"-", "", "no schema diff: no explanation at all"},
	}
	for _, tt := range tests {
		e := explain(tt.v, tt.diff, tt.read)
		if tt.wantPattern == "-" {
			if e != nil {
				t.Errorf("%s: %+v, want nil (%s)", tt.name, e, tt.reason)
			}
			continue
		}
		if e == nil {
			t.Errorf("%s: nil explanation (%s)", tt.name, tt.reason)
			continue
		}
		if e.Pattern != tt.wantPattern || e.Cause != tt.wantCause {
			t.Errorf("%s: got %q / %q, want %q / %q (%s)", tt.name, e.Pattern, e.Cause, tt.wantPattern, tt.wantCause, tt.reason)
		}
	}
}
