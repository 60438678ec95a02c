package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/schema"
	"github.com/straddle-dev/straddle/harness/verdict"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// fixture builds one run from events recorded the way the runner records them.
type fixture struct {
	scenario, engine, version string
	steps                     []plan.StepRef
	policy                    plan.Policy
	envError                  string
	notes                     []string
	events                    func(f *fixture) []observe.Event
	rollout                   plan.Rollout
}

func (f *fixture) input(t *testing.T) verdict.RunInput {
	t.Helper()
	r, err := plan.NewRollout(f.steps)
	if err != nil {
		t.Fatal(err)
	}
	f.rollout = r
	rec := observe.NewRecorder()
	if f.events != nil {
		for _, e := range f.events(f) {
			e.Engine = f.engine
			rec.Record(e)
		}
	}
	return verdict.RunInput{Scenario: f.scenario, Engine: f.engine, ServerVersion: f.version,
		Rollout: r, Policy: f.policy, Snapshot: rec.Snapshot(), EnvError: f.envError, Notes: f.notes}
}

// q is a query execution at boundary b.
func (f *fixture) q(b int, rel plan.Release, w plan.Window, query string, lat time.Duration) observe.Event {
	return observe.Event{Kind: observe.KindQuery, Boundary: f.rollout[b], Window: w, Release: rel,
		Query: query, Outcome: observe.OK, Latency: lat}
}

func (f *fixture) fail(b int, rel plan.Release, w plan.Window, query, code, class, msg string) observe.Event {
	e := f.q(b, rel, w, query, 2*time.Millisecond)
	e.Outcome, e.Code, e.Class, e.Message = observe.Error, code, class, msg
	return e
}

func (f *fixture) mig(b int, d time.Duration) observe.Event {
	return observe.Event{Kind: observe.KindMigration, Boundary: f.rollout[b], Outcome: observe.OK, Latency: d}
}

// healthy runs GetUser for old and new in every window where they run, up to
// boundary last.
func (f *fixture) healthy(last int) []observe.Event {
	var es []observe.Event
	for b := 0; b <= last && b < len(f.rollout); b++ {
		es = append(es, f.mig(b, time.Duration(b+1)*1500*time.Microsecond))
		for _, w := range []plan.Window{plan.During, plan.After} {
			es = append(es, f.q(b, plan.Old, w, "GetUser", 800*time.Microsecond))
			if b > 0 {
				es = append(es, f.q(b, plan.New, w, "GetUser", 900*time.Microsecond))
			}
		}
	}
	return es
}

func fixtures() map[string]*fixture {
	return map[string]*fixture{
		"compatible": {
			scenario: "rename_column_triggers", engine: "mysql:8.4", version: "8.4.5",
			steps: []plan.StepRef{
				{Name: "0001_create_users", Phase: plan.Baseline},
				{Name: "0002_add_full_name_sync_trigger", Phase: plan.Expand},
				{Name: "0003_backfill_full_name", Phase: plan.Migrate},
				{Name: "0004_drop_name", Phase: plan.Contract},
			},
			events: func(f *fixture) []observe.Event {
				return append(f.healthy(3),
					f.fail(3, plan.Old, plan.After, "GetUser", "1054", "undefined-column", "Unknown column 'name' in 'field list'"))
			},
		},
		"incompatible": {
			scenario: "rename_column_naive", engine: "postgres:15", version: "15.18",
			steps: []plan.StepRef{
				{Name: "0001_create_users", Phase: plan.Baseline},
				{Name: "0002_rename_name", Phase: plan.Expand},
				{Name: "0003_add_email_index", Phase: plan.Expand},
				{Name: "0004_drop_legacy_view", Phase: plan.Contract},
			},
			events: func(f *fixture) []observe.Event {
				es := f.healthy(3)
				undef := func(b int, rel plan.Release, w plan.Window, query, col string) observe.Event {
					return f.fail(b, rel, w, query, "42703", "undefined-column", `column "`+col+`" does not exist`)
				}
				es = append(es,
					undef(1, plan.New, plan.During, "GetUser", "full_name"),
					undef(1, plan.Old, plan.During, "GetUser", "name"),
					undef(1, plan.Old, plan.After, "GetUser", "name"),
					undef(1, plan.Old, plan.After, "GetUser", "name"),
					undef(1, plan.Old, plan.After, "ListUsers", "name"),
					undef(2, plan.Old, plan.After, "GetUser", "name"),
					f.fail(3, plan.Old, plan.After, "ListLegacy", "42P01", "undefined-table", `relation "users_legacy" does not exist`),
				)
				return es
			},
		},
		"migration-failure": {
			scenario: "add_not_null_naive", engine: "postgres:16", version: "16.9",
			steps: []plan.StepRef{
				{Name: "0001_create_users", Phase: plan.Baseline},
				{Name: "0002_add_email", Phase: plan.Expand},
				{Name: "0003_email_not_null", Phase: plan.Migrate},
				{Name: "0004_drop_legacy", Phase: plan.Contract},
			},
			events: func(f *fixture) []observe.Event {
				es := f.healthy(1)
				es = append(es, f.q(2, plan.Old, plan.During, "GetUser", time.Millisecond))
				m := f.mig(2, 12*time.Millisecond)
				m.Outcome, m.Code, m.Class, m.Statement = observe.Error, "23502", "not-null", 2
				m.Message = `column "email" of relation "users" contains null values`
				m.SQL = "ALTER TABLE users\n  ALTER COLUMN email SET NOT NULL"
				return append(es, m)
			},
		},
		"stall": {
			scenario: "add_index_blocking", engine: "mariadb:11.4", version: "11.4.5-MariaDB",
			steps: []plan.StepRef{
				{Name: "0001_create_users", Phase: plan.Baseline},
				{Name: "20240517093000_add_index_on_users_email_with_a_long_descriptive_name_for_the_table", Phase: plan.Expand},
				{Name: "20240517093100_use_email_index", Phase: plan.Migrate},
			},
			events: func(f *fixture) []observe.Event {
				es := f.healthy(2)
				stall := f.q(1, plan.Old, plan.During, "CreateUser", 5200*time.Millisecond)
				stall.Kind, stall.Outcome, stall.Statement = observe.KindStall, observe.Stalled, 1
				stall.Message = "waited longer than the 2s stall threshold"
				stall.Holder = "thread 12: ALTER TABLE users ADD INDEX idx_email (email)"
				stall.SQL = "ALTER TABLE users ADD INDEX idx_email (email)"
				lock := f.fail(1, plan.Old, plan.During, "UpdateUser", "1205", "lock-timeout",
					"Lock wait timeout exceeded; try restarting transaction")
				lock.Statement = 1
				suite := f.fail(1, plan.New, plan.During, "go-test ./store", "", "", "exit status 1")
				suite.Output = "--- FAIL: TestEmailLookup (0.01s)\n    store_test.go:42: want 1 row, got 0\nFAIL\n"
				count := f.q(2, plan.New, plan.After, "CountActive", time.Millisecond)
				count.Outcome, count.Message = observe.Mismatch, "want 3 rows, got 2"
				return append(es, stall, lock, suite, count)
			},
		},
		"notes": {
			scenario: "db/migrations", engine: "postgres:15", version: "15.18",
			steps: []plan.StepRef{
				{Name: "0001_create_users", Phase: plan.Baseline},
				{Name: "0002_add_email", Phase: plan.Expand},
			},
			notes: []string{
				"old GetUser has no -- args: line; straddle bound $1 int8 = 1 (server-reported types)",
				"new CreateUser has no -- args: line; straddle bound $1 text = 'x{{n}}', $2 text = 'x{{n}}' (server-reported types)",
			},
			events: func(f *fixture) []observe.Event { return f.healthy(1) },
		},
		"probes": {
			scenario: "rename_table_view", engine: "mariadb:10.11", version: "10.11.9-MariaDB",
			steps: []plan.StepRef{
				{Name: "0001_create_users", Phase: plan.Baseline},
				{Name: "0002_rename_users_behind_view", Phase: plan.Expand},
				{Name: "0003_amount_integer", Phase: plan.Migrate},
				{Name: "0004_add_email", Phase: plan.Contract},
			},
			events: func(f *fixture) []observe.Event {
				es := f.healthy(3)
				probe := func(e observe.Event, s observe.Session) observe.Event {
					e.Probe, e.Session = true, s
					return e
				}
				window := probe(f.fail(1, plan.Old, plan.During, "GetUser", "1146", "undefined-table",
					"Table 'app.users' doesn't exist"), observe.LongLived)
				window.AfterStatement, window.Statement, window.StepStatements = 1, 1, 2
				window.SQL = "RENAME TABLE users TO accounts"
				typ := probe(f.q(2, plan.Old, plan.After, "GetAmount", time.Millisecond), observe.Fresh)
				typ.Outcome, typ.Code = observe.Mismatch, "type"
				typ.Message = "column amount is int, was decimal(10,2) (another kind of type)"
				email := func(b int, w plan.Window) observe.Event {
					return f.fail(b, plan.New, w, "GetEmail", "1054", "undefined-column", "Unknown column 'email' in 'field list'")
				}
				race := f.fail(2, plan.New, plan.During, "CreateUser", "1213", "deadlock", "Deadlock found when trying to get lock")
				race.Code, race.Class, race.Message = "1062", "unique", "Duplicate entry 'x' for key 'users_name'"
				base := probe(f.fail(0, plan.Old, plan.After, "ListVenues", "1366", "invalid-value",
					"Incorrect integer value: 'x' for column 'capacity'"), observe.Fresh)
				// The catalog after each step: a table renamed behind a view, a
				// column's type changed.
				cols := func(table, amount string) []schema.Object {
					return []schema.Object{{Kind: schema.Table, Table: table},
						{Kind: schema.Column, Table: table, Name: "id", Detail: "bigint NOT NULL"},
						{Kind: schema.Column, Table: table, Name: "amount", Detail: amount}}
				}
				for i := range es {
					if es[i].Kind != observe.KindMigration {
						continue
					}
					switch es[i].Boundary.Index {
					case 0:
						es[i].Schema = schema.New(cols("users", "decimal(10,2) NOT NULL"))
					case 1:
						es[i].Schema = schema.New(append(cols("accounts", "decimal(10,2) NOT NULL"), schema.Object{Kind: schema.View, Table: "users"}))
					case 2, 3:
						es[i].Schema = schema.New(append(cols("accounts", "int(11) NOT NULL"), schema.Object{Kind: schema.View, Table: "users"}))
					}
				}
				return append(es, base, window,
					probe(email(1, plan.After), observe.Fresh), probe(email(2, plan.After), observe.Fresh),
					email(3, plan.During), typ, race)
			},
		},
		"env-error": {
			scenario: "rename_column_naive", engine: "mariadb:10.11",
			steps: []plan.StepRef{
				{Name: "0001_create_users", Phase: plan.Baseline},
				{Name: "0002_rename_name", Phase: plan.Expand},
			},
			envError: "start mariadb:10.11: container exited (code 1)\nbefore accepting connections",
		},
	}
}

// fixtureOrder is the order of runs in the "all" golden.
var fixtureOrder = []string{"compatible", "incompatible", "migration-failure", "stall", "env-error"}

func result(t *testing.T, names ...string) *verdict.Result {
	t.Helper()
	fs := fixtures()
	var in []verdict.RunInput
	for _, n := range names {
		in = append(in, fs[n].input(t))
	}
	return verdict.Decide(in)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./harness/report -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s\nrun go test ./harness/report -update if the change is intended", path, diff)
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name   string
		runs   []string
		opts   Options
		reason string
	}{
		{name: "compatible", runs: []string{"compatible"}, reason: "old breaks only in contract: informational, the point of no return"},
		{name: "incompatible", runs: []string{"incompatible"}, reason: "a rename in expand breaks old (42703), new fails informationally during it"},
		{name: "migration-failure", runs: []string{"migration-failure"}, reason: "a step fails at statement 2; the next step is not run"},
		{name: "stall", runs: []string{"stall"}, reason: "a stall is a violation; a lock timeout is transient; command output and a wrong result are informational"},
		{name: "env-error", runs: []string{"env-error"}, reason: "an environment failure is not a verdict"},
		{name: "notes", runs: []string{"notes"}, reason: "notes (generated arguments) are shown, not findings"},
		{name: "all", runs: fixtureOrder, reason: "several runs in one report"},
		{name: "probes", runs: []string{"probes"}, reason: "state probes: the session that met a failure, the state after a statement, a result that changed type, a break still failing in later steps, a timing finding, a workload error"},
		{name: "stall-timings", runs: []string{"stall"}, opts: Options{Timings: true}, reason: "timings shown when asked"},
	}
	for _, tc := range cases {
		for _, format := range Formats {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Render(&buf, format, result(t, tc.runs...), tc.opts); err != nil {
					t.Fatal(err)
				}
				golden(t, tc.name+"."+format, buf.Bytes())
			})
		}
	}
	// Phase rules: hits as verdict.CheckRules settles them, one of each outcome.
	for _, format := range Formats {
		t.Run("rules/"+format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, format, withRules(result(t, "incompatible")), Options{}); err != nil {
				t.Fatal(err)
			}
			golden(t, "rules."+format, buf.Bytes())
		})
	}
	t.Run("incompatible-color/text", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Text(&buf, result(t, "incompatible"), Options{Color: true}); err != nil {
			t.Fatal(err)
		}
		golden(t, "incompatible-color.text", buf.Bytes())
	})
}

// TestJSONContract checks the fields shared/DESIGN.md promises, through a generic
// decoder, as a user's CI script would read them.
func TestJSONContract(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, result(t, "incompatible", "migration-failure"), Options{Timings: true}); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, buf.Bytes())
	}
	get := func(v any, path ...any) any {
		t.Helper()
		for _, p := range path {
			switch p := p.(type) {
			case string:
				m, ok := v.(map[string]any)
				if !ok {
					t.Fatalf("%v: not an object at %q", path, p)
				}
				if v, ok = m[p]; !ok {
					t.Fatalf("%v: missing field %q", path, p)
				}
			case int:
				a, ok := v.([]any)
				if !ok || p >= len(a) {
					t.Fatalf("%v: no element %d", path, p)
				}
				v = a[p]
			}
		}
		return v
	}
	check := func(want any, path ...any) {
		t.Helper()
		if got := get(doc, path...); !cmp.Equal(got, want) {
			t.Errorf("%v = %#v, want %#v", path, got, want)
		}
	}
	check("incompatible", "verdict")
	check("rename_column_naive", "runs", 0, "scenario")
	check("postgres:15", "runs", 0, "engine")
	check("15.18", "runs", 0, "server_version")
	check("expand", "runs", 0, "boundaries", 1, "phase")
	check("0002_rename_name", "runs", 0, "boundaries", 1, "step")
	check("ok", "runs", 0, "boundaries", 1, "migration", "status")
	check(3.0, "runs", 0, "boundaries", 1, "migration", "duration_ms")
	old := []any{"runs", 0, "boundaries", 1, "releases", "old"}
	check(true, append(old, "required")...)
	check("fail", append(old, "status")...)
	check("GetUser", append(old, "failures", 0, "query")...)
	check("42703", append(old, "failures", 0, "code")...)
	check(`column "name" does not exist`, append(old, "failures", 0, "message")...)
	check("during", append(old, "failures", 0, "when")...)
	check(false, "runs", 0, "boundaries", 1, "releases", "new", "required")
	check("fail", "runs", 0, "boundaries", 1, "releases", "new", "status")
	check([]any{}, "runs", 0, "boundaries", 2, "releases", "new", "failures")
	check("failed", "runs", 1, "boundaries", 2, "migration", "status")
	check("23502", "runs", 1, "boundaries", 2, "migration", "code")
	check(`column "email" of relation "users" contains null values`, "runs", 1, "boundaries", 2, "migration", "message")
	check("not-run", "runs", 1, "boundaries", 3, "migration", "status")
	check("expand/0002_rename_name", "runs", 0, "old_breaks_at")

	v := map[string]any{"engine": "postgres:15", "phase": "expand", "step": "0002_rename_name",
		"release": "old", "query": "GetUser", "code": "42703", "kind": "error"}
	for k, want := range v {
		check(want, "violations", 0, k)
	}
	var mig map[string]any
	for _, v := range get(doc, "violations").([]any) {
		if m := v.(map[string]any); m["kind"] == "migration" {
			mig = m
		}
	}
	for k, want := range map[string]any{"engine": "postgres:16", "phase": "migrate", "step": "0003_email_not_null", "kind": "migration", "code": "23502"} {
		if mig[k] != want {
			t.Errorf("migration violation %s = %v, want %v", k, mig[k], want)
		}
	}
	for _, k := range []string{"release", "query"} {
		if _, ok := mig[k]; ok {
			t.Errorf("migration violation has %q; the contract says it has none", k)
		}
	}
	if s := buf.String(); strings.Index(s, `"old": {`) > strings.Index(s, `"new": {`) {
		t.Errorf("releases: old must come before new")
	}

	// And the Go types read their own output back.
	var back verdict.Result
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(result(t, "incompatible", "migration-failure"), &back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestJUnitParses(t *testing.T) {
	r := result(t, fixtureOrder...)
	var buf bytes.Buffer
	if err := JUnit(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name      string    `xml:"name,attr"`
				Classname string    `xml:"classname,attr"`
				Failure   *struct{} `xml:"failure"`
				Error     *struct{} `xml:"error"`
				Skipped   *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	if len(doc.Suites) != len(r.Runs) {
		t.Fatalf("%d suites, want one per run (%d)", len(doc.Suites), len(r.Runs))
	}
	var tests, failures, errs, skipped int
	for i, s := range doc.Suites {
		if want := r.Runs[i].Scenario + " " + r.Runs[i].Engine; s.Name != want {
			t.Errorf("suite %d name = %q, want %q", i, s.Name, want)
		}
		var suiteFailures int
		for _, c := range s.Cases {
			tests++
			if !strings.HasPrefix(c.Classname, "straddle.") {
				t.Errorf("classname %q, want straddle.<engine>", c.Classname)
			}
			switch {
			case c.Failure != nil:
				failures++
				suiteFailures++
			case c.Error != nil:
				errs++
			case c.Skipped != nil:
				skipped++
			}
		}
		if (suiteFailures > 0) != (r.Runs[i].Violations() > 0) {
			t.Errorf("suite %s: %d failures, but %d violations", s.Name, suiteFailures, r.Runs[i].Violations())
		}
	}
	if doc.Tests != tests || doc.Failures != failures || doc.Errors != errs || doc.Skipped != skipped {
		t.Errorf("totals = %d/%d/%d/%d, want %d/%d/%d/%d (tests/failures/errors/skipped)",
			doc.Tests, doc.Failures, doc.Errors, doc.Skipped, tests, failures, errs, skipped)
	}
	if errs != 1 {
		t.Errorf("%d errors, want 1 (the environment failure)", errs)
	}
}

func TestTextWidth(t *testing.T) {
	var buf bytes.Buffer
	if err := Text(&buf, result(t, fixtureOrder...), Options{Timings: true}); err != nil {
		t.Fatal(err)
	}
	if err := Text(&buf, withRules(result(t, "incompatible")), Options{}); err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(buf.String(), "\n") {
		if n := utf8.RuneCountInString(l); n > textWidth {
			t.Errorf("line %d is %d columns, want ≤ %d:\n%s", i+1, n, textWidth, l)
		}
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	err := Render(&bytes.Buffer{}, "xml", result(t, "compatible"), Options{})
	if !errors.Is(err, plan.ErrBadInput) {
		t.Errorf("Render(xml) = %v, want an error wrapping plan.ErrBadInput", err)
	}
}

func TestCode(t *testing.T) {
	tests := []struct {
		name, in, want, reason string
	}{
		{"plain", "42703", "`42703`", "a code span"},
		{"backtick", "Unknown column `name`", "`` Unknown column `name` ``", "a longer fence than the backticks inside, and a space before one that ends the text"},
		{"inner backtick", "a `b` c", "``a `b` c``", "a longer fence than the backticks inside"},
		{"leading backtick", "`t` missing", "`` `t` missing ``", "a space keeps the fence apart from a leading backtick"},
		{"newline", "a\n  b", "`a b`", "one line"},
		{"empty", "", "", "nothing to show"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(tt.in); got != tt.want {
				t.Errorf("code(%q) = %q, want %q (%s)", tt.in, got, tt.want, tt.reason)
			}
		})
	}
}

// TestCommandOutput checks that an external migration command's output reaches
// every human format, and that control characters in it (colored output) do not
// break the XML.
func TestCommandOutput(t *testing.T) {
	r := &verdict.Result{Verdict: verdict.Incompatible, Runs: []verdict.Run{{
		Scenario: "goose", Engine: "postgres:16",
		Boundaries: []verdict.Boundary{{
			Phase: plan.Expand, Step: "0002_add_email",
			Migration: verdict.Migration{Status: verdict.MigrationFailed, Message: "exit status 1",
				Output: "\x1b[31mERROR\x1b[0m 2024/05/17 relation \"users_email\" already exists\n"},
			Releases: verdict.Releases{},
		}},
	}}, Violations: []verdict.Violation{{Engine: "postgres:16", Phase: plan.Expand, Step: "0002_add_email", Kind: verdict.KindMigration}}}
	for _, format := range []string{"text", "markdown", "junit"} {
		var buf bytes.Buffer
		if err := Render(&buf, format, r, Options{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), `relation "users_email" already exists`) {
			t.Errorf("%s report lacks the command output:\n%s", format, buf.String())
		}
		if format != "text" && strings.Contains(buf.String(), "[31m") {
			t.Errorf("%s report keeps terminal escapes:\n%s", format, buf.String())
		}
		if format == "junit" {
			var v any
			if err := xml.Unmarshal(buf.Bytes(), &v); err != nil {
				t.Errorf("junit with control characters is not XML: %v\n%s", err, buf.String())
			}
		}
	}
}

// withRules adds a hit of each outcome to r's first run: proven (linked to
// its violation), refuted, not exercised and excepted, not exercised and
// failing --rules error.
func withRules(r *verdict.Result) *verdict.Result {
	run := r.Runs[0]
	hit := func(rule plan.RuleID, b int, object string) verdict.RuleHit {
		bd := run.Boundaries[b]
		return verdict.RuleHit{Rule: rule, Engine: run.Engine, Scenario: run.Scenario, Phase: bd.Phase, Step: bd.Step,
			Object: object, Change: object + " changed", Statement: 1}
	}
	proven := hit(plan.RuleRenameInExpand, 1, "column users.name")
	proven.Outcome = verdict.Proven
	proven.Violation = &verdict.RuleViolation{Release: plan.Old, Query: "GetUser", Code: "42703", Kind: verdict.KindError}
	proven.Pattern, proven.Recipe = "4. Rename column", "add the new column and sync triggers in expand"
	refuted := hit(plan.RuleIndexNotConcurrent, 2, "index users.users_email")
	refuted.Outcome = verdict.Refuted
	refuted.Queries = []string{"old CreateUser", "new CreateUser"}
	allowed := hit(plan.RuleDropInExpand, 2, "column users.legacy")
	allowed.Outcome = verdict.NotExercised
	allowed.Suggest = "SELECT legacy FROM users LIMIT 1"
	allowed.Allowed, allowed.AllowedAt = "column unused since v1.2", "migrations/0003_add_email_index.sql:2"
	fails := hit(plan.RuleUniqueInExpand, 2, "index users.users_email")
	fails.Outcome = verdict.NotExercised
	fails.Suggest = "an INSERT into users as the old release writes it, e.g. INSERT INTO users (…) VALUES (…)"
	fails.Fails = true
	r.Rules = []verdict.RuleHit{proven, refuted, allowed, fails}
	return r
}
