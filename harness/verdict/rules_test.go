package verdict

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/schema"
)

// ruleRun is a run with one expand (or other phase) boundary whose step made
// diff; old ran queries ran (all passing but those in failed).
func ruleRun(phase plan.Phase, diff []schema.Change, ran []string, failed ...string) Run {
	old := Cell{Release: plan.Old, Required: phase != plan.Contract, Status: Pass}
	for _, q := range ran {
		old.Queries = append(old.Queries, QueryLatency{Query: q, When: plan.After, Count: 1})
	}
	for _, q := range failed {
		old.Failures = append(old.Failures, Failure{Query: q, Kind: KindError})
		old.Status = Fail
	}
	return Run{Scenario: "s", Engine: "postgres:15", Boundaries: []Boundary{
		{Phase: plan.Baseline, Step: "0001_init", Releases: Releases{{Release: plan.Old, Required: true}}},
		{Phase: phase, Step: "0002_step", SchemaDiff: diff, Releases: Releases{old}},
	}}
}

func col(table, name, detail string) schema.Object {
	return schema.Object{Kind: schema.Column, Table: table, Name: name, Detail: detail}
}

var (
	getUser  = RuleQuery{Release: plan.Old, Name: "GetUser", SQL: "SELECT id, nickname FROM users WHERE id = $1", Reads: []string{"users"}}
	listAll  = RuleQuery{Release: plan.Old, Name: "ListAll", SQL: "SELECT * FROM users", Reads: []string{"users"}}
	getName  = RuleQuery{Release: plan.Old, Name: "GetName", SQL: "SELECT name FROM users", Reads: []string{"users"}}
	addUser  = RuleQuery{Release: plan.Old, Name: "AddUser", SQL: "INSERT INTO users (name) VALUES ($1)", Writes: []string{"users"}}
	dropNick = schema.Change{Op: schema.Dropped, Object: col("users", "nickname", "text")}
)

// hitOf is what the tests compare of a hit.
type hitOf struct {
	Rule      plan.RuleID
	Object    string
	Statement int
	Outcome   RuleOutcome
	Link      string // release query of the proving violation
	Queries   []string
	Suggest   string
	Allowed   string
	Fails     bool
	Pattern   string
}

func TestCheckRules(t *testing.T) {
	stmts := func(s ...string) []RuleStep { return []RuleStep{{Name: "0002_step", Statements: s}} }
	tests := []struct {
		name       string
		run        Run
		violations []Violation
		in         RuleInput
		mode       RuleMode
		want       []hitOf
		reason     string
	}{
		{
			name: "drop proven",
			run:  ruleRun(plan.Expand, []schema.Change{dropNick}, []string{"GetName"}, "GetUser"),
			violations: []Violation{{Engine: "postgres:15", Scenario: "s", Phase: plan.Expand, Step: "0002_step", Release: plan.Old,
				Query: "GetUser", Code: "42703", Kind: KindError, Class: "undefined-column",
				Explain: &Explanation{Cause: "column users.nickname dropped by this step"}}},
			in: RuleInput{Steps: stmts("ALTER TABLE users DROP COLUMN nickname"), Queries: []RuleQuery{getUser, getName}},
			want: []hitOf{{Rule: plan.RuleDropInExpand, Object: "column users.nickname", Statement: 1, Outcome: Proven,
				Link: "old GetUser", Pattern: "5. Drop column"}},
			reason: "the violation the drop explains proves the rule, and links it",
		},
		{
			name: "drop not exercised",
			run:  ruleRun(plan.Migrate, []schema.Change{dropNick}, []string{"GetName"}),
			in:   RuleInput{Steps: stmts("SELECT 1", "ALTER TABLE users DROP COLUMN nickname"), Queries: []RuleQuery{getName}},
			want: []hitOf{{Rule: plan.RuleDropInExpand, Object: "column users.nickname", Statement: 2, Outcome: NotExercised,
				Suggest: "SELECT nickname FROM users LIMIT 1", Pattern: "5. Drop column"}},
			reason: "GetName reads users but not the column: it says nothing about the drop; migrate is before contract too",
		},
		{
			name: "drop not exercised fails under error",
			run:  ruleRun(plan.Expand, []schema.Change{dropNick}, []string{"GetName"}),
			in:   RuleInput{Steps: stmts("ALTER TABLE users DROP COLUMN nickname"), Queries: []RuleQuery{getName}},
			mode: RulesError,
			want: []hitOf{{Rule: plan.RuleDropInExpand, Object: "column users.nickname", Statement: 1, Outcome: NotExercised,
				Suggest: "SELECT nickname FROM users LIMIT 1", Fails: true, Pattern: "5. Drop column"}},
			reason: "--rules error fails what nothing exercised",
		},
		{
			name: "drop excepted",
			run:  ruleRun(plan.Expand, []schema.Change{dropNick}, nil),
			in: RuleInput{Steps: []RuleStep{{Name: "0002_step", Statements: []string{"ALTER TABLE users DROP COLUMN nickname"},
				Allows: []plan.Allow{{Rule: plan.RuleDropInExpand, Reason: "unused since v1.2", File: "m/0002_step.sql", Line: 2}}}}},
			mode: RulesError,
			want: []hitOf{{Rule: plan.RuleDropInExpand, Object: "column users.nickname", Statement: 1, Outcome: NotExercised,
				Suggest: "SELECT nickname FROM users LIMIT 1", Allowed: "unused since v1.2", Pattern: "5. Drop column"}},
			reason: "an exception keeps the outcome but does not fail the run",
		},
		{
			name:   "drop refuted",
			run:    ruleRun(plan.Expand, []schema.Change{dropNick}, []string{"ListAll", "GetName"}),
			in:     RuleInput{Steps: stmts("ALTER TABLE users DROP COLUMN nickname"), Queries: []RuleQuery{listAll, getName}},
			mode:   RulesError,
			want:   []hitOf{{Rule: plan.RuleDropInExpand, Object: "column users.nickname", Statement: 1, Outcome: Refuted, Queries: []string{"old ListAll"}, Pattern: "5. Drop column"}},
			reason: "SELECT * reads every column and kept working; refuted hits never fail the run",
		},
		{
			name:   "exercising query failed without a violation",
			run:    ruleRun(plan.Expand, []schema.Change{dropNick}, []string{"GetUser"}, "GetUser"),
			in:     RuleInput{Steps: stmts("ALTER TABLE users DROP COLUMN nickname"), Queries: []RuleQuery{getUser}},
			want:   []hitOf{{Rule: plan.RuleDropInExpand, Object: "column users.nickname", Statement: 1, Outcome: NotExercised, Suggest: "SELECT nickname FROM users LIMIT 1", Pattern: "5. Drop column"}},
			reason: "a query that failed (transiently) did not keep working: nothing refutes the rule",
		},
		{
			name:   "command release refutes",
			run:    ruleRun(plan.Expand, []schema.Change{dropNick}, []string{"app-tests"}),
			in:     RuleInput{Steps: stmts("ALTER TABLE users DROP COLUMN nickname")},
			want:   []hitOf{{Rule: plan.RuleDropInExpand, Object: "column users.nickname", Statement: 1, Outcome: Refuted, Queries: []string{"old app-tests"}, Pattern: "5. Drop column"}},
			reason: "straddle cannot see what a command does: it is taken to touch everything",
		},
		{
			name:   "drop in contract",
			run:    ruleRun(plan.Contract, []schema.Change{dropNick}, nil),
			in:     RuleInput{Steps: stmts("ALTER TABLE users DROP COLUMN nickname")},
			reason: "contract is where drops belong",
		},
		{
			name:   "rename table",
			run:    ruleRun(plan.Expand, []schema.Change{{Op: schema.Renamed, Object: schema.Object{Kind: schema.Table, Table: "people"}, Before: "users"}}, []string{"GetName"}),
			in:     RuleInput{Steps: stmts("ALTER TABLE users RENAME TO people"), Queries: []RuleQuery{getName}},
			want:   []hitOf{{Rule: plan.RuleRenameInExpand, Object: "table users", Statement: 1, Outcome: Refuted, Queries: []string{"old GetName"}, Pattern: "7. Rename table"}},
			reason: "the object is named as before the step; a query of the old table kept working (a view, say)",
		},
		{
			name: "not null without default",
			run: ruleRun(plan.Expand, []schema.Change{
				{Op: schema.Added, Object: col("users", "email", "text NOT NULL")},
				{Op: schema.Added, Object: col("users", "age", "integer NOT NULL DEFAULT 0")},
				{Op: schema.Added, Object: schema.Object{Kind: schema.Table, Table: "orders"}},
				{Op: schema.Added, Object: col("orders", "id", "bigint NOT NULL")},
			}, []string{"AddUser"}, "AddUser"),
			violations: []Violation{{Engine: "postgres:15", Scenario: "s", Phase: plan.Expand, Step: "0002_step", Release: plan.Old,
				Query: "AddUser", Code: "23502", Kind: KindError, Class: "not-null"}},
			in: RuleInput{Steps: stmts("CREATE TABLE orders (id bigint NOT NULL)", "ALTER TABLE users ADD COLUMN email text NOT NULL, ADD COLUMN age integer NOT NULL DEFAULT 0"),
				Queries: []RuleQuery{addUser, getName}},
			want:   []hitOf{{Rule: plan.RuleNotNullWithoutDefault, Object: "column users.email", Statement: 2, Outcome: Proven, Link: "old AddUser", Pattern: "3. Add NOT NULL column"}},
			reason: "a default or a new table is fine; the writer of users failing on not-null proves it without an explanation",
		},
		{
			name: "types",
			run: ruleRun(plan.Expand, []schema.Change{
				{Op: schema.Changed, Object: col("users", "name", "character varying(200)"), Before: "character varying(100)"},
				{Op: schema.Changed, Object: col("users", "bio", "text"), Before: "character varying(100)"},
				{Op: schema.Changed, Object: col("users", "id", "bigint NOT NULL"), Before: "integer NOT NULL"},
				{Op: schema.Changed, Object: col("users", "nick", "text NOT NULL"), Before: "text"},
			}, []string{"GetName"}),
			in: RuleInput{Steps: stmts("ALTER TABLE users ALTER COLUMN id TYPE bigint", "ALTER TABLE users ALTER nick SET NOT NULL"), Queries: []RuleQuery{getName}},
			want: []hitOf{
				{Rule: plan.RuleTypeChangeInPlace, Object: "column users.id", Statement: 1, Outcome: NotExercised, Suggest: "SELECT id FROM users LIMIT 1", Pattern: "6. Change column type"},
				{Rule: plan.RuleSetNotNullInExpand, Object: "column users.nick", Statement: 2, Outcome: NotExercised, Suggest: "an INSERT into users as the old release writes it, e.g. INSERT INTO users (…) VALUES (…)", Pattern: "3. Add NOT NULL column"},
			},
			reason: "widening a varchar or to text is safe in place; another type is not; NOT NULL on an existing column concerns writers",
		},
		{
			name: "indexes on postgres",
			run: ruleRun(plan.Expand, []schema.Change{
				{Op: schema.Added, Object: schema.Object{Kind: schema.Index, Table: "users", Name: "users_name", Detail: "(name)"}},
				{Op: schema.Added, Object: schema.Object{Kind: schema.Index, Table: "users", Name: "users_nick", Detail: "(nick)"}},
				{Op: schema.Added, Object: schema.Object{Kind: schema.Index, Table: "users", Name: "users_email_key", Detail: "UNIQUE (email)"}},
				{Op: schema.Added, Object: schema.Object{Kind: schema.Constraint, Table: "users", Name: "users_email_key", Detail: "UNIQUE (email)"}},
			}, []string{"AddUser"}),
			in: RuleInput{BlockingIndexBuilds: true, Queries: []RuleQuery{addUser},
				Steps: stmts("CREATE INDEX users_name ON users (name)", "CREATE INDEX CONCURRENTLY users_nick ON users (nick)", "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)")},
			want: []hitOf{
				{Rule: plan.RuleUniqueInExpand, Object: "index users.users_email_key", Statement: 3, Outcome: Refuted, Queries: []string{"old AddUser"}, Pattern: "10. Add unique constraint"},
				{Rule: plan.RuleIndexNotConcurrent, Object: "index users.users_name", Statement: 1, Outcome: Refuted, Queries: []string{"old AddUser"}, Pattern: "9. Add index"},
				{Rule: plan.RuleIndexNotConcurrent, Object: "index users.users_email_key", Statement: 3, Outcome: Refuted, Queries: []string{"old AddUser"}, Pattern: "9. Add index"},
			},
			reason: "a unique constraint and its index are one hit; CONCURRENTLY is the safe way; the writer kept working",
		},
		{
			name: "indexes elsewhere",
			run: ruleRun(plan.Expand, []schema.Change{
				{Op: schema.Added, Object: schema.Object{Kind: schema.Index, Table: "users", Name: "users_name", Detail: "(name)"}},
			}, nil),
			in:     RuleInput{Steps: stmts("CREATE INDEX users_name ON users (name)")},
			reason: "MySQL/MariaDB build indexes online by default",
		},
		{
			name: "foreign key and check",
			run: ruleRun(plan.Expand, []schema.Change{
				{Op: schema.Added, Object: schema.Object{Kind: schema.Constraint, Table: "users", Name: "users_org_fk", Detail: "FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID"}},
				{Op: schema.Added, Object: schema.Object{Kind: schema.Constraint, Table: "users", Name: "users_name_ck", Detail: "CHECK"}},
			}, []string{"GetName"}),
			in: RuleInput{Steps: stmts("ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs NOT VALID", "ALTER TABLE users ADD CONSTRAINT users_name_ck CHECK (name <> '')"), Queries: []RuleQuery{getName}},
			want: []hitOf{
				{Rule: plan.RuleForeignKeyInExpand, Object: "constraint users.users_org_fk", Statement: 1, Outcome: NotExercised, Suggest: "an INSERT into users as the old release writes it, e.g. INSERT INTO users (…) VALUES (…)", Pattern: "11. Add foreign key"},
				{Rule: plan.RuleCheckInExpand, Object: "constraint users.users_name_ck", Statement: 2, Outcome: NotExercised, Suggest: "an INSERT into users as the old release writes it, e.g. INSERT INTO users (…) VALUES (…)", Pattern: "12. Add check constraint"},
			},
			reason: "NOT VALID still checks new rows; a reader does not exercise a constraint",
		},
		{
			name: "enum labels",
			run: ruleRun(plan.Expand, []schema.Change{
				{Op: schema.Changed, Object: col("posts", "state", "enum('draft','live')"), Before: "enum('draft','live','gone')"},
				{Op: schema.Renamed, Object: schema.Object{Kind: schema.Enum, Table: "mood", Name: "glad", Detail: "1"}, Before: "happy"},
			}, []string{"SetMood"}),
			in: RuleInput{Steps: stmts("ALTER TYPE mood RENAME VALUE 'happy' TO 'glad'"), Queries: []RuleQuery{
				{Release: plan.Old, Name: "SetMood", SQL: "UPDATE users SET mood = $1", Writes: []string{"users"}, Args: []string{"'happy'"}}}},
			want: []hitOf{
				{Rule: plan.RuleEnumValueRemoved, Object: "column posts.state", Outcome: NotExercised, Suggest: "a query that writes the label 'gone', e.g. UPDATE posts SET state = 'gone' WHERE …", Pattern: "15. Enum: remove / rename value"},
				{Rule: plan.RuleEnumValueRemoved, Object: "enum mood 'happy'", Statement: 1, Outcome: Refuted, Queries: []string{"old SetMood"}, Pattern: "15. Enum: remove / rename value"},
			},
			reason: "PostgreSQL labels are objects, MySQL's are in the column type; a query passing the label exercises it",
		},
		{
			name:   "off",
			run:    ruleRun(plan.Expand, []schema.Change{dropNick}, nil),
			mode:   RulesOff,
			reason: "--rules off checks nothing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode := tt.mode
			if mode == "" {
				mode = RulesWarn
			}
			var got []hitOf
			for _, h := range CheckRules(tt.run, tt.violations, tt.in, mode) {
				g := hitOf{Rule: h.Rule, Object: h.Object, Statement: h.Statement, Outcome: h.Outcome, Queries: h.Queries,
					Suggest: h.Suggest, Allowed: h.Allowed, Fails: h.Fails, Pattern: h.Pattern}
				if h.Violation != nil {
					g.Link = string(h.Violation.Release) + " " + h.Violation.Query
				}
				if h.Engine != "postgres:15" || h.Step != "0002_step" || h.Change == "" {
					t.Errorf("hit %s: engine %q step %q change %q: want the run's engine and step and the change in words", h.Rule, h.Engine, h.Step, h.Change)
				}
				got = append(got, g)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.reason, diff)
			}
		})
	}
}

// TestRulesSkipTablesOfTheRollout: a table an earlier step of the rollout
// created has no old writers before the new release is deployed (goose project
// getpolygon/polygon: a unique index on user_settings, created the step before,
// was a unique-in-expand hit "an INSERT into user_settings as the old release"
// could never exercise, and failed --rules error).
func TestRulesSkipTablesOfTheRollout(t *testing.T) {
	settings := schema.Object{Kind: schema.Table, Table: "user_settings"}
	uniq := schema.Change{Op: schema.Added, Object: schema.Object{Kind: schema.Index, Table: "user_settings", Name: "user_settings_user", Detail: "UNIQUE (user_id)"}}
	dropCol := schema.Change{Op: schema.Dropped, Object: col("user_settings", "theme", "text")}
	run := func(phase plan.Phase, diff ...schema.Change) Run {
		r := ruleRun(phase, diff, nil)
		created := Boundary{Phase: plan.Expand, Step: "0001b_create", SchemaDiff: []schema.Change{{Op: schema.Added, Object: settings}}, Releases: Releases{{Release: plan.Old, Required: true}}}
		r.Boundaries = append(r.Boundaries[:1], append([]Boundary{created}, r.Boundaries[1:]...)...)
		return r
	}
	in := RuleInput{Steps: []RuleStep{{Name: "0002_step", Statements: []string{"CREATE UNIQUE INDEX user_settings_user ON user_settings (user_id)"}}}, BlockingIndexBuilds: true}
	for _, tt := range []struct {
		name   string
		run    Run
		want   int
		reason string
	}{
		{"unique index in expand", run(plan.Expand, uniq), 0, "no old writer of the table can break on it"},
		{"drop a column in expand", run(plan.Expand, dropCol), 0, "no old reader knew the column"},
		{"unique index in contract", run(plan.Contract, uniq), 1, "the new release writes the table by then: a blocking build still holds it up"},
	} {
		hits := CheckRules(tt.run, nil, in, RulesError)
		var n int
		for _, h := range hits {
			if h.Step == "0002_step" {
				n++
			}
		}
		if n != tt.want {
			t.Errorf("%s: %d hits at 0002_step, want %d (%s): %+v", tt.name, n, tt.want, tt.reason, hits)
		}
	}
}

func TestRuleSpecsCoverRules(t *testing.T) {
	for _, r := range plan.Rules {
		if _, ok := ruleSpecs[r.ID]; !ok {
			t.Errorf("rule %s has no spec: how it is proven is unknown", r.ID)
		}
	}
	if len(ruleSpecs) != len(plan.Rules) {
		t.Errorf("%d specs for %d rules: a spec without a rule in plan.Rules cannot be excepted", len(ruleSpecs), len(plan.Rules))
	}
}

func TestParseRuleMode(t *testing.T) {
	for _, s := range []string{"off", "warn", "error"} {
		if m, err := ParseRuleMode(s); err != nil || string(m) != s {
			t.Errorf("ParseRuleMode(%q) = %q, %v", s, m, err)
		}
	}
	if _, err := ParseRuleMode("strict"); err == nil || err.Error() != `bad input: --rules "strict": want one of off, warn, error` {
		t.Errorf("ParseRuleMode(strict): %v", err)
	}
}

func TestUnusedAllows(t *testing.T) {
	allow := func(r plan.RuleID, line int) plan.Allow {
		return plan.Allow{Rule: r, Reason: "why", File: "m.sql", Line: line}
	}
	in := RuleInput{Steps: []RuleStep{
		{Name: "0001_init", Allows: []plan.Allow{allow(plan.RuleDropInExpand, 1)}},
		{Name: "0002_step", Statements: []string{"ALTER TABLE users DROP COLUMN nickname"},
			Allows: []plan.Allow{allow(plan.RuleDropInExpand, 2), allow(plan.RuleCheckInExpand, 3)}},
	}}
	run := ruleRun(plan.Expand, []schema.Change{dropNick}, nil)
	got := UnusedAllows(run, CheckRules(run, nil, in, RulesWarn), in)
	if diff := cmp.Diff([]plan.Allow{allow(plan.RuleCheckInExpand, 3)}, got); diff != "" {
		t.Errorf("the exception of a rule its step does not break is unused; the baseline's is not judged (-want +got):\n%s", diff)
	}
	run.Boundaries[1].SchemaDiff = nil
	if got := UnusedAllows(run, nil, in); len(got) != 0 {
		t.Errorf("a step whose diff was not read judges no exception: got %v", got)
	}
}
