package verdict

import (
	"fmt"
	"strings"

	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/schema"
)

// Explanation says why a violation happened, from the failure and what the step
// changed in the schema, and the safe way to make that change: a recipe of
// shared/patterns.md, with the cookbook scenario that shows it. Cause is "" when
// no change of the step explains the failure: straddle says so rather than guess.
type Explanation struct {
	// Cause is the schema change that broke the query: "column users.name
	// renamed to full_name".
	Cause string `json:"cause,omitempty"`
	// Pattern names the change of patterns.md ("4. Rename column").
	Pattern string `json:"pattern,omitempty"`
	// Recipe is the safe way, in a sentence or two.
	Recipe string `json:"recipe,omitempty"`
	// Example is the cookbook scenario that shows the recipe (or the break).
	Example string `json:"example,omitempty"`
}

// recipe is one entry of the explanation table: which failures and schema
// changes it explains, and what to do.
type recipe struct {
	// classes the violation may have ("" matches a failure of another kind by
	// kind and code below); codes match Kind "result" codes and stalls.
	classes []string
	kind    Kind
	codes   []string
	// change is the schema change that explains it.
	op     schema.Op
	object schema.Kind
	detail string // a substring the changed object's detail must have
	// when, if set, must hold of the change too.
	when    func(schema.Change) bool
	pattern string
	recipe  string
	// mysql is the recipe on MySQL/MariaDB where it differs (no NOT VALID).
	mysql   string
	example string
}

// recipeFor returns r's recipe for the engine of v ("mariadb:10.11").
func (r recipe) recipeFor(v Violation) string {
	if r.mysql != "" && (strings.HasPrefix(v.Engine, "mysql") || strings.HasPrefix(v.Engine, "mariadb")) {
		return r.mysql
	}
	return r.recipe
}

// onConflictRecipe is the fix for an ON CONFLICT whose target a step took away.
const onConflictRecipe = "ON CONFLICT (columns) needs a unique index or constraint on exactly those columns, without a WHERE: keep it until no running release upserts on it, and build its replacement beside it in expand (a partial index does not serve an ON CONFLICT without the same WHERE)"

// recipes is the explanation table, most specific first. Its patterns are those
// of shared/patterns.md; a new pattern is one more entry.
var recipes = []recipe{
	{classes: []string{"undefined-column"}, op: schema.Renamed, object: schema.Column,
		pattern: "4. Rename column",
		recipe:  "expand: add the new column and triggers that keep both columns in sync; migrate: backfill, and move the new release to the new column; contract: drop the triggers and the old column once no release reads it",
		example: "scenarios/cookbook/rename_column_triggers.txtar"},
	{classes: []string{"undefined-column"}, op: schema.Dropped, object: schema.Column,
		pattern: "5. Drop column",
		recipe:  "stop reading and writing the column in one release, then drop it in a contract step of the next: old code still names it until it is gone",
		example: "scenarios/cookbook/drop_column_contract.txtar"},
	{kind: KindResult, codes: []string{"columns"}, op: schema.Dropped, object: schema.Column,
		pattern: "5. Drop column",
		recipe:  "drop a column only in contract, after no running release reads it (SELECT * included: name the columns)",
		example: "scenarios/cookbook/drop_column_contract.txtar"},
	{classes: []string{"undefined-table"}, op: schema.Renamed, object: schema.Table,
		pattern: "7. Rename table",
		recipe:  "rename the table and create a view under the old name in the same transaction (PostgreSQL), or create the new table and write to both (MySQL); drop the view or the old table in contract",
		example: "scenarios/cookbook/rename_table_view.txtar"},
	{classes: []string{"wrong-object-type"}, op: schema.Renamed, object: schema.Table,
		pattern: "7. Rename table (COPY)",
		recipe:  "a view under the old name takes reads, INSERT, UPDATE and DELETE but not COPY (sqlc :copyfrom, pgx CopyFrom): move every release that copies to the new name before the rename, or keep a real table under the old name, synced by triggers, until contract",
		example: "scenarios/cookbook/rename_table_view.txtar"},
	{classes: []string{"undefined-table"}, op: schema.Dropped, object: schema.Table,
		pattern: "20. Drop table",
		recipe:  "drop a table only in contract, after no running release uses it",
		example: "scenarios/cookbook/drop_table_contract.txtar"},
	{classes: []string{"undefined-table"}, op: schema.Renamed, object: schema.View,
		pattern: "7. Rename table (a view)",
		recipe:  "code names views as it names tables: create the view under its new name beside the old one in expand, move the new release to it, and drop the old name in contract",
		example: "scenarios/cookbook/rename_table_view.txtar"},
	{classes: []string{"undefined-table"}, op: schema.Dropped, object: schema.View,
		pattern: "20. Drop table (a view)",
		recipe:  "drop a view only in contract, after no running release reads it; DROP … CASCADE of a table or column drops the views over it too: drop those views first, on purpose",
		example: "scenarios/cookbook/drop_table_contract.txtar"},
	{classes: []string{"undefined-table"}, op: schema.Renamed, object: schema.Sequence,
		pattern: "7. Rename table (a sequence)",
		recipe:  "code that names a sequence (nextval('…')) breaks on its rename as on a table's: create the new sequence beside it in expand (or let the new release use the column's default), move the new release to it, and drop the old one in contract",
		example: "scenarios/cookbook/rename_table_naive.txtar"},
	{classes: []string{"undefined-table"}, op: schema.Dropped, object: schema.Sequence,
		pattern: "20. Drop table (a sequence)",
		recipe:  "drop a sequence only in contract, after no running release takes values of it",
		example: "scenarios/cookbook/drop_table_contract.txtar"},
	{classes: []string{"undefined-object"}, op: schema.Renamed, object: schema.Constraint,
		pattern: "19. Rename index / constraint",
		recipe:  "code that names a constraint or index (ON CONFLICT ON CONSTRAINT, index hints) breaks on a rename: build a copy under the new name in expand, move the new release to it, and drop the old name in contract",
		example: "scenarios/cookbook/rename_index_copy.txtar"},
	{classes: []string{"undefined-object"}, op: schema.Renamed, object: schema.Index,
		pattern: "19. Rename index / constraint",
		recipe:  "code that names an index (index hints, ON CONFLICT ON CONSTRAINT) breaks on a rename: build a copy under the new name in expand, move the new release to it, and drop the old name in contract",
		example: "scenarios/cookbook/rename_index_copy.txtar"},
	{classes: []string{"undefined-object"}, op: schema.Dropped, object: schema.Constraint,
		pattern: "19. Rename index / constraint",
		recipe:  "drop a constraint or index that code names only in contract, after no running release names it",
		example: "scenarios/cookbook/rename_index_copy.txtar"},
	{classes: []string{"undefined-object"}, op: schema.Dropped, object: schema.Index,
		pattern: "19. Rename index / constraint",
		recipe:  "drop an index that code names (index hints, ON CONFLICT ON CONSTRAINT) only in contract, after no running release names it",
		example: "scenarios/cookbook/rename_index_copy.txtar"},
	{classes: []string{"undefined-function"}, op: schema.Dropped, object: schema.Function,
		pattern: "Drop or rename function",
		recipe:  "keep a function or procedure that running code calls until no release calls it: create the new one (a new name or signature) beside it in expand, move the new release to it, and drop the old one in contract",
		example: "scenarios/cookbook/drop_function_contract.txtar"},
	{classes: []string{"undefined-function", "type-mismatch"}, op: schema.Changed, object: schema.Column,
		pattern: "6. Change column type",
		recipe:  "old code's functions, operators and values are typed for the old column: add a column of the new type with a sync trigger in expand, backfill in migrate, move readers and writers to it, and drop the old column in contract",
		example: "scenarios/cookbook/change_column_type_contract.txtar"},
	{classes: []string{"no-conflict-target"}, op: schema.Dropped, object: schema.Constraint,
		pattern: "19. Rename index / constraint (ON CONFLICT)",
		recipe:  onConflictRecipe,
		example: "scenarios/cookbook/rename_index_copy.txtar"},
	{classes: []string{"no-conflict-target"}, op: schema.Dropped, object: schema.Index,
		pattern: "19. Rename index / constraint (ON CONFLICT)",
		recipe:  onConflictRecipe,
		example: "scenarios/cookbook/rename_index_copy.txtar"},
	{classes: []string{"no-conflict-target"}, op: schema.Changed, object: schema.Index,
		pattern: "19. Rename index / constraint (ON CONFLICT)",
		recipe:  onConflictRecipe,
		example: "scenarios/cookbook/rename_index_copy.txtar"},
	{classes: []string{"not-null"}, op: schema.Added, object: schema.Column, detail: "NOT NULL",
		pattern: "3. Add NOT NULL column",
		recipe:  "add the column nullable or with a default in expand, backfill in migrate, and make it NOT NULL in contract once every writer sets it",
		example: "scenarios/cookbook/add_column_not_null_default.txtar"},
	{classes: []string{"not-null"}, op: schema.Changed, object: schema.Column, detail: "NOT NULL",
		pattern: "3. Add NOT NULL column",
		recipe:  "make a column NOT NULL only in contract, once every release that writes the table sets it (a trigger or a default covers old writers)",
		example: "scenarios/cookbook/add_column_not_null_default.txtar"},
	{classes: []string{"ambiguous-column"}, op: schema.Added, object: schema.Column,
		pattern: "1. Add nullable column (ambiguous names)",
		recipe:  "a column added to one table makes the same unqualified name of another table in a join ambiguous: give the new column a name no table it is joined with uses, or ship code that qualifies every column first",
		example: "scenarios/cookbook/add_column_ambiguous.txtar"},
	{classes: []string{"ambiguous-column"}, op: schema.Renamed, object: schema.Column,
		pattern: "4. Rename column (ambiguous names)",
		recipe:  "a column renamed to a name another joined table uses makes that name ambiguous in old queries: pick a name no joined table uses, or ship code that qualifies every column first",
		example: "scenarios/cookbook/add_column_ambiguous.txtar"},
	{classes: []string{"raised"}, op: schema.Added, object: schema.Trigger,
		pattern: "16. Add trigger-synced column (a trigger that rejects)",
		recipe:  "a trigger that rejects rows old code writes breaks old code: have it fill in what old writers leave out (as a sync trigger does) instead of raising, and enforce the rule in contract, once no old writer is left",
		example: "scenarios/cookbook/rename_column_triggers.txtar"},
	{classes: []string{"stale-plan"}, op: schema.Added, object: schema.Column,
		pattern: "1. Add nullable column (Evidence: stale prepared statements)",
		recipe:  "name the columns a query reads instead of SELECT *: a statement prepared before ADD COLUMN cannot run after it on PostgreSQL (or have the driver re-prepare on 0A000)",
		example: "scenarios/cookbook/prepared_select_star_sessions.txtar"},
	{classes: []string{"stale-plan"}, op: schema.Dropped, object: schema.Column,
		pattern: "5. Drop column",
		recipe:  "drop a column only in contract, after no running release reads it; a statement prepared over it (SELECT *) cannot run after the drop on PostgreSQL",
		example: "scenarios/cookbook/drop_column_contract.txtar"},
	{classes: []string{"stale-plan"}, op: schema.Changed, object: schema.Column,
		pattern: "6. Change column type",
		recipe:  "add a column of the new type with a sync trigger in expand, backfill in migrate, switch readers, and drop the old column in contract",
		example: "scenarios/cookbook/change_column_type_contract.txtar"},
	{classes: []string{"column-count"}, op: schema.Added, object: schema.Column,
		pattern: "1. Add nullable column (positional INSERT)",
		recipe:  "name the columns in every INSERT; an INSERT without a column list breaks on any ADD COLUMN",
		example: "scenarios/cookbook/add_column_positional_insert.txtar"},
	{kind: KindResult, codes: []string{"type"}, op: schema.Changed, object: schema.Column,
		pattern: "6. Change column type",
		recipe:  "add a column of the new type with a sync trigger in expand, backfill in migrate, move readers to it, and drop the old column in contract; only widening (longer varchar, larger numeric precision) is safe in place",
		example: "scenarios/cookbook/result_type_narrowed.txtar"},
	{kind: KindResult, codes: []string{"value"}, op: schema.Changed, object: schema.Column, when: defaultOnly,
		pattern: "13. Change default",
		recipe:  "a new default changes what old writers that omit the column store: have every release set the column explicitly first, and change the default in contract",
		example: "scenarios/cookbook/change_default_contract.txtar"},
	{classes: []string{"invalid-value", "out-of-range"}, op: schema.Changed, object: schema.Column,
		pattern: "6. Change column type",
		recipe:  "a narrower type rejects what old writers send: change types with a new column and a sync trigger, and narrow only in contract once the data is verified",
		example: "scenarios/cookbook/result_type_narrowed.txtar"},
	{classes: []string{"invalid-value"}, op: schema.Renamed, object: schema.Enum,
		pattern: "15. Enum: remove / rename value",
		recipe:  "add the new label in expand, move rows and writers to it in migrate, and stop accepting the old one only in contract: newly started instances parse the old label and fail",
		example: "scenarios/cookbook/rename_enum_value_naive.txtar"},
	{classes: []string{"invalid-value"}, op: schema.Dropped, object: schema.Enum,
		pattern: "15. Enum: remove / rename value",
		recipe:  "remove an enum label only in contract, after no release writes or names it",
		example: "scenarios/cookbook/rename_enum_value_naive.txtar"},
	{classes: []string{"unique"}, op: schema.Added, object: schema.Index, detail: "UNIQUE",
		pattern: "10. Add unique constraint",
		recipe:  "make sure every running release writes unique values first (dedupe, then a unique index built concurrently), and add the constraint when the old release no longer writes duplicates",
		example: "scenarios/cookbook/add_unique_safe.txtar"},
	{classes: []string{"unique"}, op: schema.Added, object: schema.Constraint,
		pattern: "10. Add unique constraint",
		recipe:  "make sure every running release writes unique values first, then add the constraint",
		example: "scenarios/cookbook/add_unique_safe.txtar"},
	{classes: []string{"foreign-key"}, op: schema.Added, object: schema.Constraint,
		pattern: "11. Add foreign key",
		recipe:  "a key checks every new write at once, NOT VALID or not (that skips only the rows already there): add it in contract, or once every running release writes only rows that keep it; NOT VALID first and VALIDATE in a later step keeps the check of old rows from locking writers",
		mysql:   "a key checks every new write at once (foreign_key_checks=0 skips only the rows already there): add it in contract, or once every running release writes only rows that keep it",
		example: "scenarios/cookbook/add_foreign_key_safe.txtar"},
	{classes: []string{"check"}, op: schema.Added, object: schema.Constraint,
		pattern: "12. Add check constraint",
		recipe:  "a CHECK applies to every new write at once, NOT VALID or not (that skips only the rows already there): add it in contract, or once every running release writes only values it takes; then VALIDATE it in a later step",
		mysql:   "a CHECK applies to every new write at once (check_constraint_checks=0 skips only the rows already there): add it in contract, or once every running release writes only values it takes",
		example: "scenarios/cookbook/add_check_safe.txtar"},
	{kind: KindStall, op: schema.Added, object: schema.Index,
		pattern: "9. Add index",
		recipe:  "build indexes without blocking writes: CREATE INDEX CONCURRENTLY (PostgreSQL, outside a transaction) or ALGORITHM=INPLACE, LOCK=NONE (MySQL/MariaDB)",
		example: "scenarios/cookbook/lock_create_index_concurrently.txtar"},
	{kind: KindStall, op: schema.Added, object: schema.Column,
		pattern: "Cross-cutting: lock timeouts",
		recipe:  "set a short lock_timeout on the migration and retry, so that a step waiting behind a long query does not queue every other query behind it",
		example: "scenarios/cookbook/lock_alter_behind_long_query.txtar"},
}

// migrationRecipes explain a step that failed on the rows already there, by the
// class of its error.
var migrationRecipes = map[string]recipe{
	"not-null": {pattern: "3. Add NOT NULL column",
		recipe:  "add the column nullable or with a default in expand, backfill in migrate, and make it NOT NULL in contract",
		example: "scenarios/cookbook/add_column_not_null_default.txtar"},
	"unique": {pattern: "10. Add unique constraint",
		recipe:  "dedupe the rows and make every running release write unique values before the unique index or constraint",
		example: "scenarios/cookbook/add_unique_safe.txtar"},
	"foreign-key": {pattern: "11. Add foreign key",
		recipe:  "add the foreign key NOT VALID, fix the orphans, then VALIDATE it in a later step",
		mysql:   "fix the orphans first (a migrate step), then add the foreign key in contract, once no running release writes orphans",
		example: "scenarios/cookbook/add_foreign_key_safe.txtar"},
	"check": {pattern: "12. Add check constraint",
		recipe:  "add the CHECK NOT VALID, fix the rows that break it, then VALIDATE it in a later step",
		mysql:   "fix the rows that break the CHECK first (a migrate step), then add it in contract, once no running release writes such rows",
		example: "scenarios/cookbook/add_check_safe.txtar"},
}

// explain explains v with the schema changes of its boundary (changed: the
// catalog was read on both sides of the step); nil when there is nothing to go
// on, an empty Explanation when nothing explains it.
func explain(v Violation, diff []schema.Change, read bool) *Explanation {
	if v.Kind == KindMigration {
		r, ok := migrationRecipes[v.Class]
		if !ok || v.Phase == plan.Baseline {
			// The baseline is the old release's schema, built from nothing:
			// no rows of a running release stood in its way.
			return nil
		}
		cause := "the step failed on the rows already in the table"
		if v.Statement > 0 {
			cause = fmt.Sprintf("statement %d of the step failed on the rows already in the table", v.Statement)
		}
		return &Explanation{Cause: cause, Pattern: r.pattern, Recipe: r.recipeFor(v), Example: r.example}
	}
	if !read {
		return nil
	}
	if v.Kind == KindResult && v.Code == "value" && len(diff) == 0 && strings.HasPrefix(v.Message, "returns ") {
		return &Explanation{Cause: "the step deleted or rewrote rows the release reads: it finds other rows",
			Pattern: "5. Drop column (rows)",
			Recipe:  "delete rows that a running release reads only in contract, once no release needs them; until then mark them (a flag the new release filters on) instead of deleting them"}
	}
	if v.Kind == KindResult && v.Code == "value" && len(diff) == 0 {
		return &Explanation{Cause: "the step rewrote data the release reads, without changing the schema",
			Pattern: "6. Change column type (values)",
			Recipe:  "write the new values to a new column (expand), backfill it (migrate), move readers to it, and drop the old column in contract: never rewrite a column in place under its readers",
			Example: "scenarios/cookbook/result_value_rewritten.txtar"}
	}
	for _, r := range recipes {
		if !r.matches(v) {
			continue
		}
		for _, c := range diff {
			if c.Op != r.op || c.Object.Kind != r.object || !strings.Contains(c.Object.Detail, r.detail) {
				continue
			}
			if r.when != nil && !r.when(c) {
				continue
			}
			if !mentions(v, c) {
				continue
			}
			return &Explanation{Cause: c.Describe() + " by this step", Pattern: r.pattern, Recipe: r.recipeFor(v), Example: r.example}
		}
	}
	if v.Release == plan.New && (v.Class == "undefined-column" || v.Class == "undefined-table") {
		return &Explanation{Cause: "the new release names an object that no step up to here creates",
			Pattern: "Phases: expand before the new release",
			Recipe:  "create what the new release needs in an expand step: it is required from the end of expand on",
			Example: "scenarios/cookbook/add_column_contract_too_late.txtar"}
	}
	return &Explanation{}
}

func (r recipe) matches(v Violation) bool {
	switch {
	case len(r.classes) > 0:
		for _, c := range r.classes {
			if v.Class == c {
				return true
			}
		}
		return false
	case r.kind == KindResult:
		if v.Kind != KindResult {
			return false
		}
		for _, c := range r.codes {
			if v.Code == c {
				return true
			}
		}
		return false
	}
	return v.Kind == r.kind
}

// mentions reports whether the failure names the changed object (its message
// names the column, table or label), or cannot (a result or a stall, which
// names no object: any change of the right kind in the step explains it).
// Names count where the message quotes or qualifies them ("value", 'nick',
// `users`, u.name): a column named value is not the word in "null value in
// column …".
func mentions(v Violation, c schema.Change) bool {
	if v.Kind == KindResult || v.Kind == KindStall || v.Class == "stale-plan" || v.Class == "column-count" {
		return true
	}
	if v.Class == "no-conflict-target" {
		// "there is no unique or exclusion constraint matching the ON CONFLICT
		// specification" names nothing: a unique index or constraint the step
		// dropped or changed explains it.
		return c.Object.Kind == schema.Index && strings.Contains(c.Before+c.Object.Detail, "UNIQUE") ||
			c.Object.Kind == schema.Constraint && strings.Contains(strings.ToUpper(c.Object.Detail), "UNIQUE")
	}
	if v.Class == "raised" {
		// The message is the trigger's own words, naming nothing of the schema.
		return c.Object.Kind == schema.Trigger
	}
	msg := strings.ToLower(v.Message)
	names := []string{c.Object.Name, c.Object.Table, c.Before}
	var phrases []string // found anywhere in the message
	switch {
	case c.Object.Kind == schema.Table:
		names = []string{c.Before, c.Object.Table}
	case c.Object.Kind == schema.Column && v.Class == "not-null":
		// The servers name the column that was left NULL: another column of
		// the same table does not explain it.
		names = []string{c.Object.Name}
	case c.Object.Kind == schema.Function:
		// PostgreSQL names the function with the argument types of the call
		// ("function f(unknown) does not exist"), MySQL with its database
		// ("FUNCTION db.f does not exist").
		bare, _, _ := strings.Cut(c.Object.Name, "(")
		names = []string{bare}
		phrases = []string{" " + strings.ToLower(bare) + "("}
	}
	if c.Object.Kind == schema.Column && c.Op == schema.Changed {
		// PostgreSQL names the type, not the column: "value too long for type
		// character varying(8)", "invalid input syntax for type integer".
		typ, _, _ := strings.Cut(c.Object.Detail, " NOT NULL")
		typ, _, _ = strings.Cut(typ, " DEFAULT ")
		phrases = append(phrases, "type "+typ)
		if v.Class == "undefined-function" {
			// …or only the argument types: "function lower(integer) does not
			// exist", "operator does not exist: integer ~~ text".
			bare, _, _ := strings.Cut(typ, "(")
			phrases = append(phrases, "("+bare+")", ": "+bare+" ", " "+bare)
		}
	}
	for _, n := range names {
		if n != "" && namedIn(msg, strings.ToLower(n)) {
			return true
		}
	}
	for _, p := range phrases {
		if strings.Contains(msg, strings.ToLower(p)) {
			return true
		}
	}
	return false
}

// namedIn reports whether msg names the identifier name: an occurrence not part
// of a longer identifier, quoted or qualified on at least one side.
func namedIn(msg, name string) bool {
	ident := func(b byte) bool {
		return b == '_' || b == '$' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 0x80
	}
	marked := func(b byte) bool { return b == '"' || b == '\'' || b == '`' || b == '.' }
	for i := 0; i <= len(msg)-len(name); {
		j := strings.Index(msg[i:], name)
		if j < 0 {
			return false
		}
		j += i
		before, after := byte(' '), byte(' ')
		if j > 0 {
			before = msg[j-1]
		}
		if k := j + len(name); k < len(msg) {
			after = msg[k]
		}
		if !ident(before) && !ident(after) && (marked(before) || marked(after)) {
			return true
		}
		i = j + 1
	}
	return false
}

// defaultOnly reports whether c changed a column's default and nothing else of
// it: the catalogs write a column as "TYPE [NOT NULL] [DEFAULT expr]".
func defaultOnly(c schema.Change) bool {
	cut := func(d string) (string, string) {
		if i := strings.Index(d, " DEFAULT "); i >= 0 {
			return d[:i], d[i:]
		}
		return d, ""
	}
	bt, bd := cut(c.Before)
	at, ad := cut(c.Object.Detail)
	return bt == at && bd != ad
}
