package verdict

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/schema"
)

// RuleMode is how `check --rules` treats phase rules.
type RuleMode string

const (
	// RulesOff checks no rule.
	RulesOff RuleMode = "off"
	// RulesWarn (the default) lists every hit; the exit code is the verdict's
	// (a proven hit is a violation already).
	RulesWarn RuleMode = "warn"
	// RulesError also fails the run (exit 1) for every hit that is not
	// exercised and not excepted: nothing the run did says it is safe.
	RulesError RuleMode = "error"
)

// RuleModes lists the modes, for usage messages.
var RuleModes = []string{string(RulesOff), string(RulesWarn), string(RulesError)}

// ParseRuleMode parses the value of --rules.
func ParseRuleMode(s string) (RuleMode, error) {
	if slices.Contains(RuleModes, s) {
		return RuleMode(s), nil
	}
	return "", fmt.Errorf("%w: --rules %q: want one of %s", plan.ErrBadInput, s, strings.Join(RuleModes, ", "))
}

// RuleOutcome is how a run settled a rule hit.
type RuleOutcome string

const (
	// Proven: a required release broke at the hit's boundary because of it (a
	// violation the change explains, or one of a query that touches the object
	// failing the way the rule predicts). RuleHit.Violation links it.
	Proven RuleOutcome = "proven"
	// NotExercised: no query of a release required at the boundary touches the
	// object, or none that does ran there cleanly; the run says nothing either
	// way. A warning, with a query that would exercise it (RuleHit.Suggest).
	NotExercised RuleOutcome = "not-exercised"
	// Refuted: queries of a required release that touch the object ran at the
	// boundary and kept working (RuleHit.Queries), and no violation there is
	// the rule's doing. It holds for those queries only: a release that uses the
	// object some other way is not covered.
	Refuted RuleOutcome = "refuted"
)

// RuleHit is one phase rule a step of a run breaks, and how the run settled it.
type RuleHit struct {
	Rule     plan.RuleID `json:"rule"`
	Engine   string      `json:"engine"`
	Scenario string      `json:"scenario"`
	Phase    plan.Phase  `json:"phase"`
	Step     string      `json:"step"`
	// Object is the object the rule is about, as it was before the step:
	// "column users.nickname".
	Object string `json:"object"`
	// Change is the schema change that hit the rule, in words.
	Change string `json:"change"`
	// Statement is the 1-based statement of the step that names the object; 0
	// when none does by name.
	Statement int         `json:"statement,omitempty"`
	Outcome   RuleOutcome `json:"outcome"`
	// Violation is the violation that proves the hit.
	Violation *RuleViolation `json:"violation,omitempty"`
	// Queries are the queries ("old GetUser") that touch the object and kept
	// working there: what refutes the hit.
	Queries []string `json:"queries,omitempty"`
	// Suggest is, for a hit not exercised, a query that would exercise it.
	Suggest string `json:"suggest,omitempty"`
	// Pattern, Recipe and Example are the safe way to make the change, as in
	// Explanation.
	Pattern string `json:"pattern,omitempty"`
	Recipe  string `json:"recipe,omitempty"`
	Example string `json:"example,omitempty"`
	// Allowed is the reason of the step's "-- straddle:allow RULE: REASON"
	// exception, AllowedAt its file:line. An exception does not change the
	// outcome: a proven hit is a violation all the same.
	Allowed   string `json:"allowed,omitempty"`
	AllowedAt string `json:"allowed_at,omitempty"`
	// Fails is set when the hit fails the run under --rules error.
	Fails bool `json:"fails,omitempty"`
}

// Boundary renders "phase/step".
func (h RuleHit) Boundary() string { return boundaryName(h.Phase, h.Step) }

// RuleViolation is the violation that proves a hit.
type RuleViolation struct {
	Release plan.Release `json:"release"`
	Query   string       `json:"query"`
	Code    string       `json:"code,omitempty"`
	Kind    Kind         `json:"kind"`
}

// RuleInput is what the rules need about one run beyond its Result: the
// rollout's steps and the queries of each release.
type RuleInput struct {
	Steps []RuleStep
	// Queries are the queries of the releases that run queries; a release run
	// by a command has none here, and is taken to touch every object (straddle
	// cannot see what its program does).
	Queries []RuleQuery
	// BlockingIndexBuilds is set where a plain CREATE INDEX blocks writes and
	// CONCURRENTLY avoids it (PostgreSQL).
	BlockingIndexBuilds bool
}

// RuleStep is a migration step as the rules see it.
type RuleStep struct {
	Name       string
	Statements []string
	Allows     []plan.Allow
}

// RuleQuery is a query of a release as the rules see it.
type RuleQuery struct {
	Release plan.Release
	Name    string
	SQL     string
	// Reads and Writes are the tables it reads and writes, lower case
	// (workload.Query.Tables).
	Reads, Writes []string
	// Args are its arguments' literal texts, all sets.
	Args []string
}

// ruleSpec is how a rule finds its link to the explanation table and which
// failures prove it.
type ruleSpec struct {
	// class or kind picks the entry of recipes that says how to do it safely,
	// among those of the hit's change (op and object kind).
	class string
	kind  Kind
	// proves lists the failure classes (or result codes) that prove a hit when
	// a query touching the object fails with them; stall: a stall proves it.
	proves []string
	stall  bool
	// writers: only queries that write the table exercise it.
	writers bool
}

var ruleSpecs = map[plan.RuleID]ruleSpec{
	plan.RuleDropInExpand:          {class: "undefined-column", proves: []string{"undefined-column", "undefined-table", "stale-plan", "column-count", "columns"}},
	plan.RuleRenameInExpand:        {class: "undefined-column", proves: []string{"undefined-column", "undefined-table", "stale-plan", "column-count", "columns", "undefined-object"}},
	plan.RuleTypeChangeInPlace:     {kind: KindResult, proves: []string{"invalid-value", "out-of-range", "stale-plan", "type", "value"}, stall: true},
	plan.RuleNotNullWithoutDefault: {class: "not-null", proves: []string{"not-null"}, writers: true},
	plan.RuleSetNotNullInExpand:    {class: "not-null", proves: []string{"not-null"}, writers: true},
	plan.RuleForeignKeyInExpand:    {class: "foreign-key", proves: []string{"foreign-key"}, stall: true, writers: true},
	plan.RuleCheckInExpand:         {class: "check", proves: []string{"check"}, stall: true, writers: true},
	plan.RuleUniqueInExpand:        {class: "unique", proves: []string{"unique"}, stall: true, writers: true},
	plan.RuleIndexNotConcurrent:    {kind: KindStall, stall: true, writers: true},
	plan.RuleEnumValueRemoved:      {class: "invalid-value", proves: []string{"invalid-value"}},
}

// candidate is a rule a change hits, before the run settles it.
type candidate struct {
	rule   plan.RuleID
	change schema.Change
	table  string // the table (or enum type) as it was before the step
	name   string // the column, index, constraint or label before the step; "" for a table
	object string
}

// CheckRules finds the phase rules run's steps break, from each boundary's
// schema diff and the step's statements, and settles each hit by what the run
// saw: violations (of all runs; only run's are used) and each release's
// queries. Hits are in boundary order, then in the order of plan.Rules. It is
// pure: the same inputs give the same hits.
func CheckRules(run Run, violations []Violation, in RuleInput, mode RuleMode) []RuleHit {
	if mode == RulesOff {
		return nil
	}
	steps := map[string]RuleStep{}
	for _, s := range in.Steps {
		steps[s.Name] = s
	}
	var out []RuleHit
	created := map[string]bool{} // tables an earlier step of this rollout created
	for _, b := range run.Boundaries {
		if b.Phase == plan.Baseline || len(b.SchemaDiff) == 0 {
			continue
		}
		st := steps[b.Step]
		cands := candidates(b, st, in.BlockingIndexBuilds, created)
		for _, c := range b.SchemaDiff {
			if c.Op == schema.Added && c.Object.Kind == schema.Table {
				created[c.Object.Table] = true
			}
		}
		for _, c := range cands {
			h := settle(run, b, c, st, violations, in)
			for _, a := range st.Allows {
				if a.Rule == c.rule {
					h.Allowed, h.AllowedAt = a.Reason, fmt.Sprintf("%s:%d", a.File, a.Line)
					break
				}
			}
			h.Fails = mode == RulesError && h.Outcome == NotExercised && h.Allowed == ""
			out = append(out, h)
		}
	}
	return out
}

// candidates lists the rules b's changes hit, one per (rule, object), in the
// order of plan.Rules then of the diff.
//
// A table this step creates has no rows and no old writers; nor, before the
// new release is deployed, has one an earlier step of the rollout created
// (created): the old release never knew it, so the rules that guard old code
// do not apply to it in expand and migrate.
func candidates(b Boundary, st RuleStep, blockingIndexes bool, created map[string]bool) []candidate {
	early := b.Phase == plan.Expand || b.Phase == plan.Migrate
	newTable := map[string]bool{}
	if early {
		for t := range created {
			newTable[t] = true
		}
	}
	for _, c := range b.SchemaDiff {
		if c.Op == schema.Added && c.Object.Kind == schema.Table {
			newTable[c.Object.Table] = true
		}
	}
	var out []candidate
	seen := map[string]bool{}
	add := func(r plan.RuleID, c schema.Change) {
		cd := candidate{rule: r, change: c, table: c.Object.Table, name: c.Object.Name}
		if c.Op == schema.Renamed {
			if c.Object.Kind == schema.Table {
				cd.table = c.Before
			} else {
				cd.name = c.Before
			}
		}
		o := c.Object
		o.Table, o.Name = cd.table, cd.name
		cd.object = string(o.Kind) + " " + o.Path()
		// A UNIQUE constraint and the index behind it are one object.
		k := string(r) + "\x00" + cd.table + "\x00" + cd.name
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, cd)
	}
	for _, c := range b.SchemaDiff {
		o := c.Object
		if c.Op != schema.Added && (newTable[o.Table] || o.Kind == schema.Table && newTable[c.Before]) {
			continue // dropped, renamed or changed before any old code knew it
		}
		switch {
		case c.Op == schema.Dropped && (o.Kind == schema.Table || o.Kind == schema.View || o.Kind == schema.Column) && early:
			if o.Kind == schema.Column && droppedTable(b.SchemaDiff, o.Table) {
				continue // the table's drop says it
			}
			add(plan.RuleDropInExpand, c)
		case c.Op == schema.Renamed && o.Kind != schema.Enum && early:
			add(plan.RuleRenameInExpand, c)
		case (c.Op == schema.Renamed || c.Op == schema.Dropped) && o.Kind == schema.Enum && early:
			add(plan.RuleEnumValueRemoved, c)
		case c.Op == schema.Changed && o.Kind == schema.Column:
			before, after := columnType(c.Before), columnType(o.Detail)
			switch {
			case before == after:
			case early && enumLabelsRemoved(before, after):
				add(plan.RuleEnumValueRemoved, c)
			case !safeWidening(before, after):
				add(plan.RuleTypeChangeInPlace, c)
			}
			if early && !hasNotNull(c.Before) && hasNotNull(o.Detail) {
				add(plan.RuleSetNotNullInExpand, c)
			}
		case c.Op == schema.Added && o.Kind == schema.Column && early && !newTable[o.Table]:
			if hasNotNull(o.Detail) && !strings.Contains(o.Detail, " DEFAULT ") && !strings.Contains(o.Detail, "GENERATED") {
				add(plan.RuleNotNullWithoutDefault, c)
			}
		case c.Op == schema.Added && o.Kind == schema.Constraint && early && !newTable[o.Table]:
			d := strings.ToUpper(o.Detail)
			switch {
			case strings.Contains(d, "FOREIGN KEY"):
				add(plan.RuleForeignKeyInExpand, c)
			case strings.Contains(d, "CHECK"):
				add(plan.RuleCheckInExpand, c)
			case strings.HasPrefix(d, "UNIQUE") || strings.HasPrefix(d, "PRIMARY KEY"):
				add(plan.RuleUniqueInExpand, withKind(c, schema.Index))
			}
		case c.Op == schema.Added && o.Kind == schema.Index && !newTable[o.Table]:
			if early && strings.HasPrefix(o.Detail, "UNIQUE") {
				add(plan.RuleUniqueInExpand, c)
			}
			if blockingIndexes && !concurrent(st, o) {
				add(plan.RuleIndexNotConcurrent, c)
			}
		}
	}
	order := map[plan.RuleID]int{}
	for i, r := range plan.Rules {
		order[r.ID] = i
	}
	sort.SliceStable(out, func(i, j int) bool { return order[out[i].rule] < order[out[j].rule] })
	return out
}

// withKind returns c about an object of kind k (a UNIQUE constraint is reported
// as the index that enforces it, as both engines build one).
func withKind(c schema.Change, k schema.Kind) schema.Change {
	c.Object.Kind = k
	return c
}

func droppedTable(diff []schema.Change, table string) bool {
	for _, c := range diff {
		if c.Op == schema.Dropped && c.Object.Kind == schema.Table && c.Object.Table == table {
			return true
		}
	}
	return false
}

// columnType is the type part of a column's detail ("varchar(100)" of
// "varchar(100) NOT NULL DEFAULT 'x'").
func columnType(detail string) string {
	for _, sep := range []string{" NOT NULL", " DEFAULT ", " GENERATED "} {
		if i := strings.Index(detail, sep); i >= 0 {
			detail = detail[:i]
		}
	}
	return strings.TrimSpace(detail)
}

func hasNotNull(detail string) bool { return strings.Contains(detail, " NOT NULL") }

var reVarchar = regexp.MustCompile(`^(?:character varying|varchar)\((\d+)\)$`)

// safeWidening reports whether a type change from a to b keeps every value and
// needs no rewrite (patterns.md 6: a longer varchar, varchar to text).
func safeWidening(a, b string) bool {
	ma := reVarchar.FindStringSubmatch(a)
	if ma == nil {
		return false
	}
	if b == "text" || b == "character varying" {
		return true
	}
	mb := reVarchar.FindStringSubmatch(b)
	if mb == nil {
		return false
	}
	var na, nb int
	fmt.Sscan(ma[1], &na)
	fmt.Sscan(mb[1], &nb)
	return nb >= na
}

var reEnumLabel = regexp.MustCompile(`'((?:[^']|'')*)'`)

// enumLabelsRemoved reports whether MySQL column type b, an enum, lacks a
// label of enum a.
func enumLabelsRemoved(a, b string) bool { return len(removedLabels(a, b)) > 0 }

// removedLabels returns the labels of enum type a that enum type b lacks.
func removedLabels(a, b string) []string {
	if !strings.HasPrefix(a, "enum(") || !strings.HasPrefix(b, "enum(") {
		return nil
	}
	have := map[string]bool{}
	for _, m := range reEnumLabel.FindAllStringSubmatch(b, -1) {
		have[m[1]] = true
	}
	var out []string
	for _, m := range reEnumLabel.FindAllStringSubmatch(a, -1) {
		if !have[m[1]] {
			out = append(out, m[1])
		}
	}
	return out
}

// concurrent reports whether the step built index o concurrently, or with a
// statement that does not block writes for the build (ADD CONSTRAINT … USING
// INDEX reuses an index built before).
func concurrent(st RuleStep, o schema.Object) bool {
	i := statementOf(st, o.Table, o.Name)
	if i == 0 {
		i = statementOf(st, o.Table, "")
	}
	if i == 0 {
		return false
	}
	s := strings.ToUpper(st.Statements[i-1])
	return strings.Contains(s, "CONCURRENTLY") || strings.Contains(s, "USING INDEX")
}

// statementOf returns the 1-based statement of st that names table and name
// (name "" for the table alone), 0 when none does.
func statementOf(st RuleStep, table, name string) int {
	for i, s := range st.Statements {
		if (table == "" || hasWord(s, table)) && (name == "" || hasWord(s, name)) {
			return i + 1
		}
	}
	return 0
}

// hasWord reports whether identifier w occurs in sql as a whole word, in any
// case (quoted or not).
func hasWord(sql, w string) bool {
	if w == "" {
		return false
	}
	s, w := strings.ToLower(sql), strings.ToLower(w)
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(w)
		if (j == 0 || !identByte(s[j-1])) && (end == len(s) || !identByte(s[end])) {
			return true
		}
		i = j + 1
	}
}

func identByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 0x80
}

var reStar = regexp.MustCompile(`(?i)\bselect\s+(?:distinct\s+)?(?:\w+\.)?\*`)
var reInsertNoColumns = regexp.MustCompile(`(?i)\binsert\s+(?:ignore\s+)?into\s+[\w."` + "`" + `]+\s+(?:values|select)\b`)

// touches reports whether q exercises candidate c of rule spec sp: it reads or
// writes c's table (only writes, for rules about writers), and names c's
// column (or reads every column: SELECT *, an INSERT without a column list)
// when c is about a column; an enum label must appear as a literal.
func touches(q RuleQuery, c candidate, sp ruleSpec) bool {
	if c.change.Object.Kind == schema.Enum {
		lit := "'" + c.name + "'"
		if strings.Contains(q.SQL, lit) {
			return true
		}
		for _, a := range q.Args {
			if a == lit || a == c.name {
				return true
			}
		}
		return false
	}
	if c.change.Object.Kind == schema.Sequence {
		// nextval('seq'), currval, a DEFAULT naming it, or reading it as a table.
		return hasWord(q.SQL, c.name)
	}
	t := strings.ToLower(c.table)
	writes, reads := slices.Contains(q.Writes, t), slices.Contains(q.Reads, t)
	if !writes && (sp.writers || !reads) {
		return false
	}
	if c.change.Object.Kind != schema.Column || c.name == "" || sp.writers {
		return true
	}
	return hasWord(q.SQL, c.name) || reads && reStar.MatchString(q.SQL) || writes && reInsertNoColumns.MatchString(q.SQL)
}

// settle decides the outcome of candidate c at boundary b.
func settle(run Run, b Boundary, c candidate, st RuleStep, violations []Violation, in RuleInput) RuleHit {
	sp := ruleSpecs[c.rule]
	h := RuleHit{
		Rule: c.rule, Engine: run.Engine, Scenario: run.Scenario, Phase: b.Phase, Step: b.Step,
		Object: c.object, Change: c.change.Describe(),
		Statement: statementOf(st, c.table, c.name),
	}
	if c.change.Object.Kind == schema.Table || c.change.Object.Kind == schema.View {
		h.Statement = statementOf(st, c.table, "")
	}
	ch := c.change
	if c.rule == plan.RuleEnumValueRemoved {
		// MySQL's enums are column types: the recipe is the label's, all the same.
		ch = schema.Change{Op: schema.Dropped, Object: schema.Object{Kind: schema.Enum}}
	}
	if r, ok := recipeOf(sp, ch); ok {
		h.Pattern, h.Recipe, h.Example = r.pattern, r.recipe, r.example
	} else if r, ok := ruleRecipes[ch.Object.Kind]; ok {
		h.Pattern, h.Recipe, h.Example = r.pattern, r.recipe, r.example
	}

	// The queries that exercise the object, of the releases required here.
	touching := map[plan.Release]map[string]bool{}
	hasQueries := map[plan.Release]bool{}
	for _, q := range in.Queries {
		hasQueries[q.Release] = true
		if touches(q, c, sp) {
			if touching[q.Release] == nil {
				touching[q.Release] = map[string]bool{}
			}
			touching[q.Release][q.Name] = true
		}
	}
	touched := func(rel plan.Release, query string) bool {
		return !hasQueries[rel] || touching[rel][query]
	}

	// Proven: a violation here that the change explains, or of a query that
	// exercises the object, failing the way the rule predicts.
	for _, v := range violations {
		if v.Engine != run.Engine || v.Scenario != run.Scenario || v.Phase != b.Phase || v.Step != b.Step || v.Kind == KindMigration {
			continue
		}
		explained := v.Explain != nil && v.Explain.Cause == c.change.Describe()+" by this step"
		predicted := touched(v.Release, v.Query) &&
			(slices.Contains(sp.proves, v.Class) || v.Kind == KindResult && slices.Contains(sp.proves, v.Code) || v.Kind == KindStall && sp.stall)
		if explained || predicted {
			h.Outcome = Proven
			h.Violation = &RuleViolation{Release: v.Release, Query: v.Query, Code: v.Code, Kind: v.Kind}
			return h
		}
	}

	// Refuted: exercising queries of a required release ran here and kept working.
	for _, cell := range b.Releases {
		if !cell.Required {
			continue
		}
		failed := map[string]bool{}
		for _, f := range cell.Failures {
			failed[f.Query] = true
		}
		ran := map[string]bool{}
		for _, ql := range cell.Queries {
			if ql.Count > 0 {
				ran[ql.Query] = true
			}
		}
		var names []string
		for q := range ran {
			if touched(cell.Release, q) && !failed[q] {
				names = append(names, q)
			}
		}
		sort.Strings(names)
		for _, q := range names {
			h.Queries = append(h.Queries, string(cell.Release)+" "+q)
		}
	}
	if len(h.Queries) > 0 {
		h.Outcome = Refuted
		return h
	}
	h.Outcome = NotExercised
	h.Suggest = suggest(c, sp)
	return h
}

// recipeOf finds the entry of the explanation table for a hit of sp on change
// c: of c's op and object kind, for the rule's own failure class or kind first,
// then for any failure that proves the rule.
func recipeOf(sp ruleSpec, c schema.Change) (recipe, bool) {
	kind := c.Object.Kind
	if kind == schema.Constraint && sp.class == "unique" {
		kind = schema.Index
	}
	for pass := 0; pass < 2; pass++ {
		for _, r := range recipes {
			if r.op != c.Op || r.object != kind {
				continue
			}
			own := sp.class != "" && slices.Contains(r.classes, sp.class) || sp.kind != "" && r.kind == sp.kind && len(r.classes) == 0
			any := slices.ContainsFunc(r.classes, func(cl string) bool { return slices.Contains(sp.proves, cl) })
			if pass == 0 && own || pass == 1 && any {
				return r, true
			}
		}
	}
	return recipe{}, false
}

// ruleRecipes are the safe ways for what the explanation table has no entry
// for, since no failure class points to them alone.
var ruleRecipes = map[schema.Kind]recipe{
	schema.Index: {pattern: "19. Rename index / constraint",
		recipe: "keep the old name until contract: old code names indexes and constraints in ON CONFLICT ON CONSTRAINT, index hints and error handlers"},
	schema.Constraint: {pattern: "19. Rename index / constraint",
		recipe: "keep the old name until contract: old code names indexes and constraints in ON CONFLICT ON CONSTRAINT, index hints and error handlers"},
	schema.View: {pattern: "20. Drop table",
		recipe: "drop a view only in contract, after no running release reads it"},
}

// suggest writes a query that would exercise c, for a query file.
func suggest(c candidate, sp ruleSpec) string {
	switch {
	case c.change.Object.Kind == schema.Enum:
		return fmt.Sprintf("a query that writes or compares the label '%s', e.g. INSERT INTO … VALUES (…, '%s')", c.name, c.name)
	case c.rule == plan.RuleEnumValueRemoved:
		if l := removedLabels(columnType(c.change.Before), columnType(c.change.Object.Detail)); len(l) > 0 {
			return fmt.Sprintf("a query that writes the label '%s', e.g. UPDATE %s SET %s = '%s' WHERE …", l[0], c.table, c.name, l[0])
		}
	case c.change.Object.Kind == schema.Sequence:
		return fmt.Sprintf("a query that takes a value of the sequence, e.g. SELECT nextval('%s')", c.name)
	case sp.writers:
		return fmt.Sprintf("an INSERT into %s as the old release writes it, e.g. INSERT INTO %s (…) VALUES (…)", c.table, c.table)
	case c.change.Object.Kind == schema.Column && c.name != "":
		return fmt.Sprintf("SELECT %s FROM %s LIMIT 1", c.name, c.table)
	}
	return fmt.Sprintf("SELECT 1 FROM %s LIMIT 1", c.table)
}

// UnusedAllows returns the exceptions of in's steps that except no hit of run
// (hits: CheckRules's for run) at a boundary whose schema diff shows changes: a
// stale exception, or one for a rule its step does not break. Steps without a
// diff (the baseline, a step that changed nothing or failed, an engine whose
// catalog was not read) are not judged.
func UnusedAllows(run Run, hits []RuleHit, in RuleInput) []plan.Allow {
	checked := map[string]bool{}
	for _, b := range run.Boundaries {
		if b.Phase != plan.Baseline && b.SchemaDiff != nil {
			checked[b.Step] = true
		}
	}
	used := map[string]bool{}
	for _, h := range hits {
		if h.Engine == run.Engine && h.Scenario == run.Scenario {
			used[h.Step+"\x00"+string(h.Rule)] = true
		}
	}
	var out []plan.Allow
	for _, st := range in.Steps {
		for _, a := range st.Allows {
			if checked[st.Name] && !used[st.Name+"\x00"+string(a.Rule)] {
				out = append(out, a)
			}
		}
	}
	return out
}
