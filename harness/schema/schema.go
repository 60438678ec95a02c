package schema

import (
	"sort"
	"strings"
)

// Kind is what a schema object is.
type Kind string

const (
	Table      Kind = "table"
	View       Kind = "view"
	Column     Kind = "column"     // Detail: type, NOT NULL, DEFAULT, GENERATED
	Index      Kind = "index"      // Detail: its definition, with UNIQUE and INVALID
	Constraint Kind = "constraint" // Detail: its definition, with NOT VALID
	Trigger    Kind = "trigger"
	Function   Kind = "function" // Name: with its argument types
	Enum       Kind = "enum"     // Table: the type; Name: a label; Detail: its position
	Sequence   Kind = "sequence"
)

// kindRank orders changes for a reader: tables and views first, then what is
// in them, then objects of their own.
var kindRank = map[Kind]int{Table: 0, View: 1, Column: 2, Index: 3, Constraint: 4, Trigger: 5, Function: 6, Enum: 7, Sequence: 8}

// Object is one object of a schema. Table is the table (or type) it belongs to,
// "" for objects of their own (functions, sequences).
type Object struct {
	Kind   Kind   `json:"kind"`
	Table  string `json:"table,omitempty"`
	Name   string `json:"name,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// key identifies an object across states.
func (o Object) key() string { return string(o.Kind) + "\x00" + o.Table + "\x00" + o.Name }

// Path renders the object's name: "users.email", "users", "mood.'happy'".
func (o Object) Path() string {
	switch {
	case o.Kind == Enum:
		return o.Table + " '" + o.Name + "'"
	case o.Table == "":
		return o.Name
	case o.Name == "":
		return o.Table
	}
	return o.Table + "." + o.Name
}

// Snapshot is a schema at one state: its objects, sorted.
type Snapshot []Object

// New sorts objs into a Snapshot (the catalog rows in any order).
func New(objs []Object) Snapshot {
	s := append(Snapshot(nil), objs...)
	for i := range s {
		s[i].Detail = strings.Join(strings.Fields(s[i].Detail), " ")
	}
	sort.Slice(s, func(i, j int) bool { return s[i].key() < s[j].key() })
	return s
}

// Op is how a step changed an object.
type Op string

const (
	Added   Op = "added"
	Dropped Op = "dropped"
	Changed Op = "changed"
	Renamed Op = "renamed"
)

// Change is one difference between two snapshots. For Changed, Before is the
// object's detail before; for Renamed, Before is its name before.
type Change struct {
	Op     Op     `json:"op"`
	Object Object `json:"object"`
	Before string `json:"before,omitempty"`
}

// String renders the change in one line: "+ column users.email varchar(200)",
// "~ column users.amount: numeric(10,2) NOT NULL → integer NOT NULL",
// "→ column users.name renamed to full_name".
func (c Change) String() string {
	o := c.Object
	head := string(o.Kind) + " " + o.Path()
	switch c.Op {
	case Added:
		return strings.TrimSpace("+ " + head + " " + o.Detail)
	case Dropped:
		return "- " + head
	case Renamed:
		if o.Kind == Table {
			return "→ table " + c.Before + " renamed to " + o.Table
		}
		old := o
		old.Name = c.Before
		return "→ " + string(o.Kind) + " " + old.Path() + " renamed to " + o.Name
	}
	return "~ " + head + ": " + c.Before + " → " + o.Detail
}

// Diff returns what changed from a to b: objects added, dropped, changed (same
// kind, table and name, another detail) and renamed (one object dropped and one
// added of the same kind, in the same table, with the same detail: a column or
// an index renamed in place), in a stable order.
func Diff(a, b Snapshot) []Change {
	// A table renamed (ALTER TABLE … RENAME TO): the one table dropped and the
	// one added, with mostly the same columns. Its columns, indexes and the rest
	// moved with it; what else the step changed in it is listed under its new
	// name.
	if from, to, ok := tableRename(a, b); ok {
		moved := make(Snapshot, len(a))
		for i, o := range a {
			if o.Table == from {
				o.Table = to
			}
			moved[i] = o
		}
		rest := Diff(New(moved), b)
		return append([]Change{{Op: Renamed, Object: Object{Kind: Table, Table: to}, Before: from}}, rest...)
	}
	before := map[string]Object{}
	for _, o := range a {
		before[o.key()] = o
	}
	after := map[string]Object{}
	for _, o := range b {
		after[o.key()] = o
	}
	var added, dropped, out []Change
	for _, o := range b {
		p, ok := before[o.key()]
		switch {
		case !ok:
			added = append(added, Change{Op: Added, Object: o})
		case p.Detail != o.Detail:
			out = append(out, Change{Op: Changed, Object: o, Before: p.Detail})
		}
	}
	for _, o := range a {
		if _, ok := after[o.key()]; !ok {
			dropped = append(dropped, Change{Op: Dropped, Object: o})
		}
	}
	// A rename is a drop and an add of a kind in a table, alike but for the
	// name: the one drop and the one add with that detail (two columns renamed
	// in one step, of two types, are two renames).
	group := func(c Change) string { return string(c.Object.Kind) + "\x00" + c.Object.Table }
	like := func(c Change) string { return group(c) + "\x00" + c.Object.Detail }
	count := func(cs []Change) map[string]int {
		m := map[string]int{}
		for _, c := range cs {
			m[like(c)]++
		}
		return m
	}
	na, nd := count(added), count(dropped)
	renamedFrom := map[string]string{}
	for _, d := range dropped {
		k := like(d)
		if na[k] != 1 || nd[k] != 1 || d.Object.Kind == Table {
			continue
		}
		for _, a := range added {
			if like(a) == k {
				renamedFrom[a.Object.key()] = d.Object.Name
			}
		}
	}
	renamedTo := map[string]bool{}
	for _, a := range added {
		if from, ok := renamedFrom[a.Object.key()]; ok {
			out = append(out, Change{Op: Renamed, Object: a.Object, Before: from})
			renamedTo[group(a)+"\x00"+from] = true
			continue
		}
		out = append(out, a)
	}
	for _, d := range dropped {
		if !renamedTo[group(d)+"\x00"+d.Object.Name] {
			out = append(out, d)
		}
	}
	order := map[Op]int{Dropped: 0, Renamed: 1, Changed: 2, Added: 3}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Object, out[j].Object
		if kindRank[a.Kind] != kindRank[b.Kind] {
			return kindRank[a.Kind] < kindRank[b.Kind]
		}
		if a.key() != b.key() {
			return a.key() < b.key()
		}
		return order[out[i].Op] < order[out[j].Op]
	})
	return out
}

// tableRename finds the one table of a that b lacks and the one table of b that a
// lacks, when at least half the columns of each (by name and detail) are the
// other's: the table renamed, perhaps with a column added or dropped in the
// same step.
func tableRename(a, b Snapshot) (from, to string, ok bool) {
	tables := func(s Snapshot) map[string]bool {
		m := map[string]bool{}
		for _, o := range s {
			if o.Kind == Table {
				m[o.Table] = true
			}
		}
		return m
	}
	ta, tb := tables(a), tables(b)
	var dropT, addT []string
	for t := range ta {
		if !tb[t] {
			dropT = append(dropT, t)
		}
	}
	for t := range tb {
		if !ta[t] {
			addT = append(addT, t)
		}
	}
	if len(addT) != 1 || len(dropT) != 1 {
		return "", "", false
	}
	cols := func(s Snapshot, table string) map[string]bool {
		m := map[string]bool{}
		for _, o := range s {
			if o.Kind == Column && o.Table == table {
				m[o.Name+"\x00"+o.Detail] = true
			}
		}
		return m
	}
	ca, cb := cols(a, dropT[0]), cols(b, addT[0])
	common := 0
	for c := range ca {
		if cb[c] {
			common++
		}
	}
	if common == 0 || 2*common < len(ca) || 2*common < len(cb) {
		return "", "", false
	}
	return dropT[0], addT[0], true
}

// Describe says what the change did in words: "column users.name renamed to
// full_name", "column users.email varchar(200) added", "index users.i dropped",
// "column users.amount changed from numeric(10,2) to integer".
func (c Change) Describe() string {
	o := c.Object
	head := string(o.Kind) + " " + o.Path()
	switch c.Op {
	case Added:
		return strings.TrimSpace(head+" "+o.Detail) + " added"
	case Dropped:
		return head + " dropped"
	case Renamed:
		if o.Kind == Table {
			return "table " + c.Before + " renamed to " + o.Table
		}
		old := o
		old.Name = c.Before
		return string(o.Kind) + " " + old.Path() + " renamed to " + o.Name
	}
	return head + " changed from " + c.Before + " to " + o.Detail
}
