package plan

import "fmt"

// RuleID names a phase rule: a schema change that is unsafe while a release
// that does not expect it still runs ("drop-in-expand"). IDs are stable: reports
// and "-- straddle:allow ID: REASON" exceptions in migration files name them.
type RuleID string

// The phase rules. "in-expand" means before contract (expand or migrate), while
// the old release still runs.
const (
	RuleDropInExpand          RuleID = "drop-in-expand"
	RuleRenameInExpand        RuleID = "rename-in-expand"
	RuleTypeChangeInPlace     RuleID = "type-change-in-place"
	RuleNotNullWithoutDefault RuleID = "not-null-without-default"
	RuleSetNotNullInExpand    RuleID = "set-not-null-in-expand"
	RuleForeignKeyInExpand    RuleID = "foreign-key-in-expand"
	RuleCheckInExpand         RuleID = "check-in-expand"
	RuleUniqueInExpand        RuleID = "unique-in-expand"
	RuleIndexNotConcurrent    RuleID = "index-not-concurrent"
	RuleEnumValueRemoved      RuleID = "enum-value-removed"
)

// RuleInfo is a rule's ID and what it forbids, in one line.
type RuleInfo struct {
	ID      RuleID `json:"id"`
	Summary string `json:"summary"`
}

// Rules is the table of phase rules, in the order reports list them.
var Rules = []RuleInfo{
	{RuleDropInExpand, "a table, view or column is dropped before contract, while the old release may still use it"},
	{RuleRenameInExpand, "a table, column, index or constraint is renamed before contract: the old release still uses the old name"},
	{RuleTypeChangeInPlace, "a column's type is changed in place (a rewrite under lock; readers and writers meet the new type at once)"},
	{RuleNotNullWithoutDefault, "a NOT NULL column without a default is added before contract: old INSERTs that omit it fail"},
	{RuleSetNotNullInExpand, "an existing column is made NOT NULL before contract: old writers may still leave it NULL"},
	{RuleForeignKeyInExpand, "a foreign key is added while old writers run (validated: a scan under lock; NOT VALID still checks every new row)"},
	{RuleCheckInExpand, "a CHECK constraint is added while old writers run (NOT VALID still checks every new row)"},
	{RuleUniqueInExpand, "a unique index or constraint is added over live data while old writers run"},
	{RuleIndexNotConcurrent, "an index is built on PostgreSQL without CONCURRENTLY: writes to the table wait for the whole build"},
	{RuleEnumValueRemoved, "an enum label is removed or renamed before contract: old writers and readers still use it"},
}

// RuleIDs returns the IDs of Rules, in order.
func RuleIDs() []string {
	out := make([]string, len(Rules))
	for i, r := range Rules {
		out[i] = string(r.ID)
	}
	return out
}

// Rule returns the rule with id, or false.
func Rule(id RuleID) (RuleInfo, bool) {
	for _, r := range Rules {
		if r.ID == id {
			return r, true
		}
	}
	return RuleInfo{}, false
}

// Allow is a justified exception to a rule for one migration step: a
// "-- straddle:allow RULE: REASON" line of the migration file.
type Allow struct {
	Rule   RuleID `json:"rule"`
	Reason string `json:"reason"`
	File   string `json:"file"`
	Line   int    `json:"line"`
}

func (a Allow) String() string {
	return fmt.Sprintf("%s:%d: allow %s: %s", a.File, a.Line, a.Rule, a.Reason)
}
