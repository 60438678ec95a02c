package verdict

import (
	"os"
	"path/filepath"
	"strings"
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
		{"default changed", Violation{Kind: KindResult, Code: "value", Release: plan.Old},
			[]schema.Change{col(schema.Changed, "status", "varchar(20) NOT NULL DEFAULT 'invited'", "varchar(20) NOT NULL DEFAULT 'active'")}, true,
			"13. Change default", "column users.status changed from varchar(20) NOT NULL DEFAULT 'active' to varchar(20) NOT NULL DEFAULT 'invited' by this step", "old writers that omit the column store the new default"},
		{"type and default changed", Violation{Kind: KindResult, Code: "value", Release: plan.Old},
			[]schema.Change{col(schema.Changed, "n", "integer DEFAULT 1", "numeric(10,2) DEFAULT 1.5")}, true,
			"", "", "a type change is not a default change"},
		{"renamed index", Violation{Kind: KindError, Class: "undefined-object", Release: plan.Old, Message: `constraint "users_email_key" for table "users" does not exist`},
			[]schema.Change{{Op: schema.Renamed, Object: schema.Object{Kind: schema.Constraint, Table: "users", Name: "users_email_unique", Detail: "UNIQUE (email)"}, Before: "users_email_key"}}, true,
			"19. Rename index / constraint", "constraint users.users_email_key renamed to users_email_unique by this step", "ON CONFLICT ON CONSTRAINT names it"},
		{"dropped function", Violation{Kind: KindError, Class: "undefined-function", Release: plan.Old, Message: "function order_total(unknown) does not exist"},
			[]schema.Change{{Op: schema.Dropped, Object: schema.Object{Kind: schema.Function, Name: "order_total(p_id bigint)"}}}, true,
			"Drop or rename function", "function order_total(p_id bigint) dropped by this step", "PostgreSQL names the call's argument types, not the function's"},
		{"dropped procedure on MySQL", Violation{Kind: KindError, Class: "undefined-function", Release: plan.Old, Message: "PROCEDURE db_1.archive_orders does not exist"},
			[]schema.Change{{Op: schema.Dropped, Object: schema.Object{Kind: schema.Function, Name: "archive_orders", Detail: "PROCEDURE"}}}, true,
			"Drop or rename function", "function archive_orders dropped by this step", "MySQL names the database"},
		{"another function dropped", Violation{Kind: KindError, Class: "undefined-function", Release: plan.Old, Message: "function order_total_v2(bigint) does not exist"},
			[]schema.Change{{Op: schema.Dropped, Object: schema.Object{Kind: schema.Function, Name: "order_total(p_id bigint)"}}}, true,
			"", "", "a function whose name starts the same is another function"},
		{"operator after a type change", Violation{Kind: KindError, Class: "undefined-function", Release: plan.Old, Message: "operator does not exist: integer ~~ text"},
			[]schema.Change{col(schema.Changed, "code", "integer NOT NULL", "varchar(20) NOT NULL")}, true,
			"6. Change column type", "column users.code changed from varchar(20) NOT NULL to integer NOT NULL by this step", "LIKE over a column that became an integer"},
		{"assignment after a type change", Violation{Kind: KindError, Class: "type-mismatch", Release: plan.Old, Message: `column "code" is of type integer but expression is of type text`},
			[]schema.Change{col(schema.Changed, "code", "integer NOT NULL", "varchar(20) NOT NULL")}, true,
			"6. Change column type", "column users.code changed from varchar(20) NOT NULL to integer NOT NULL by this step", "the message names the column"},
		{"view dropped by a cascade", Violation{Kind: KindError, Class: "undefined-table", Release: plan.Old, Message: `relation "active_users" does not exist`},
			[]schema.Change{col(schema.Dropped, "nick", "varchar(20)", ""), {Op: schema.Dropped, Object: schema.Object{Kind: schema.View, Table: "active_users"}}}, true,
			"20. Drop table (a view)", "view active_users dropped by this step", "DROP COLUMN … CASCADE took the view with it"},
		{"not-null on another table", Violation{Kind: KindError, Class: "not-null", Release: plan.New, Message: `null value in column "cookbook_id" of relation "cookbook_versions" violates not-null constraint`},
			[]schema.Change{{Op: schema.Added, Object: schema.Object{Kind: schema.Column, Table: "kvpair", Name: "value", Detail: "text NOT NULL"}}}, true,
			"", "", "a column named value is not the word value of the message (chef-server)"},
		{"not-null on another column of the table", Violation{Kind: KindError, Class: "not-null", Release: plan.New, Message: `null value in column "user_role_id" of relation "users" violates not-null constraint`},
			[]schema.Change{{Op: schema.Added, Object: schema.Object{Kind: schema.Column, Table: "users", Name: "twofa_type", Detail: "text NOT NULL DEFAULT 'none'"}}}, true,
			"", "", "the message names another column of the table (listmonk)"},
		{"not-null on MySQL", Violation{Kind: KindError, Class: "not-null", Release: plan.Old, Message: "Field 'email' doesn't have a default value"},
			[]schema.Change{{Op: schema.Added, Object: schema.Object{Kind: schema.Column, Table: "users", Name: "email", Detail: "varchar(200) NOT NULL"}}}, true,
			"3. Add NOT NULL column", "column users.email varchar(200) NOT NULL added by this step", "MySQL quotes the field"},
		{"ambiguous after an added column", Violation{Kind: KindError, Class: "ambiguous-column", Release: plan.Old, Message: `column reference "status" is ambiguous`},
			[]schema.Change{{Op: schema.Added, Object: schema.Object{Kind: schema.Column, Table: "users", Name: "status", Detail: "varchar(20)"}}}, true,
			"1. Add nullable column (ambiguous names)", "column users.status varchar(20) added by this step", "listmonk's get_running_campaign"},
		{"qualified column", Violation{Kind: KindError, Class: "undefined-column", Release: plan.Old, Message: `column u.nick does not exist`},
			[]schema.Change{col(schema.Dropped, "nick", "varchar(20)", "")}, true, "5. Drop column", "column users.nick dropped by this step", "PostgreSQL qualifies without quotes"},
		{"copy into the view of a renamed table", Violation{Kind: KindError, Class: "wrong-object-type", Release: plan.Old, Message: `cannot copy to view "items"`},
			[]schema.Change{{Op: schema.Renamed, Object: schema.Object{Kind: schema.Table, Table: "products"}, Before: "items"}, {Op: schema.Added, Object: schema.Object{Kind: schema.View, Table: "items"}}}, true,
			"7. Rename table (COPY)", "table items renamed to products by this step", "sqlc :copyfrom sends COPY, which a view does not take"},
		{"a trigger that rejects old writes", Violation{Kind: KindError, Class: "raised", Release: plan.Old, Message: "region is required"},
			[]schema.Change{col(schema.Added, "region", "text", ""), {Op: schema.Added, Object: schema.Object{Kind: schema.Trigger, Table: "orders", Name: "orders_region", Detail: "BEFORE INSERT"}}}, true,
			"16. Add trigger-synced column (a trigger that rejects)", "trigger orders.orders_region BEFORE INSERT added by this step", "the trigger's RAISE names nothing: the trigger the step added explains it"},
		{"sequence renamed", Violation{Kind: KindError, Class: "undefined-table", Release: plan.Old, Message: `relation "invoice_no_seq" does not exist`},
			[]schema.Change{{Op: schema.Renamed, Object: schema.Object{Kind: schema.Sequence, Name: "invoice_number_seq"}, Before: "invoice_no_seq"}}, true,
			"7. Rename table (a sequence)", "sequence invoice_no_seq renamed to invoice_number_seq by this step", "nextval('invoice_no_seq')"},
		{"rows deleted", Violation{Kind: KindResult, Code: "value", Release: plan.Old, Message: "returns 0 rows where it returned 1"}, nil, true,
			"5. Drop column (rows)", "the step deleted or rewrote rows the release reads: it finds other rows", "a DELETE in migrate is no change of type"},
		{"upsert target dropped", Violation{Kind: KindError, Class: "no-conflict-target", Release: plan.Old, Message: "there is no unique or exclusion constraint matching the ON CONFLICT specification"},
			[]schema.Change{{Op: schema.Dropped, Object: schema.Object{Kind: schema.Constraint, Table: "actions", Name: "actions_name_unique", Detail: "UNIQUE (name)"}},
				{Op: schema.Added, Object: schema.Object{Kind: schema.Index, Table: "actions", Name: "actions_name_ns", Detail: "UNIQUE (name) WHERE (namespace_id IS NULL)"}}}, true,
			"19. Rename index / constraint (ON CONFLICT)", "constraint actions.actions_name_unique dropped by this step", "opentdf: the constraint replaced by a partial index"},
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

// TestRecipeExamplesExist keeps every explanation's cookbook scenario real: a
// report that points a user at a missing file helps nobody.
func TestRecipeExamplesExist(t *testing.T) {
	all := append([]recipe{}, recipes...)
	for _, r := range migrationRecipes {
		all = append(all, r)
	}
	for _, r := range all {
		if r.example == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join("..", "..", r.example)); err != nil {
			t.Errorf("recipe %q: example %s: %v", r.pattern, r.example, err)
		}
	}
}

// TestRecipeOnMySQL: MySQL and MariaDB have no NOT VALID; their advice does
// not say it (truth pass: a failed CHECK step on MariaDB was told to add it NOT
// VALID).
func TestRecipeOnMySQL(t *testing.T) {
	for _, engine := range []string{"postgres:15", "mariadb:10.11", "mysql:8.4"} {
		v := Violation{Kind: KindMigration, Class: "check", Phase: plan.Expand, Statement: 1, Engine: engine}
		e := explain(v, nil, false)
		if e == nil {
			t.Fatalf("%s: no explanation", engine)
		}
		if got, want := strings.Contains(e.Recipe, "NOT VALID"), engine == "postgres:15"; got != want {
			t.Errorf("%s: recipe %q says NOT VALID: %v, want %v", engine, e.Recipe, got, want)
		}
	}
}
