package workload

import (
	"testing"

	"github.com/straddle-dev/straddle/harness/plan"
)

func TestTag(t *testing.T) {
	tag := Tag(plan.Old, "GetUser")
	if tag != "/* straddle:old:GetUser */" {
		t.Fatalf("Tag = %s", tag)
	}
	for _, tc := range []struct {
		sql, rel, query, stripped string
		ok                        bool
		reason                    string
	}{
		{tag + " SELECT 1", "old", "GetUser", "SELECT 1", true, "a tagged query"},
		{"\n  " + tag + " SELECT 1", "old", "GetUser", "SELECT 1", true, "activity views may keep leading white space"},
		{"SELECT 1", "", "", "SELECT 1", false, "untagged: another session, the migration"},
		{"/* straddle:old */ SELECT 1", "", "", "SELECT 1", false, "a tag names release and query"},
		{"/* other */ SELECT 1", "", "", "/* other */ SELECT 1", false, "someone else's comment"},
	} {
		rel, q, ok := ParseTag(tc.sql)
		if ok != tc.ok || string(rel) != tc.rel || q != tc.query {
			t.Errorf("ParseTag(%q) = %q %q %v, want %q %q %v: %s", tc.sql, rel, q, ok, tc.rel, tc.query, tc.ok, tc.reason)
		}
		if got := StripTag(tc.sql); tc.ok && got != tc.stripped {
			t.Errorf("StripTag(%q) = %q, want %q", tc.sql, got, tc.stripped)
		}
	}
}

func TestExecutionsFollowPassOrder(t *testing.T) {
	qs, err := Parse("q.sql", []byte("-- name: A\n-- args: 1\n-- args: 2\nSELECT $1;\n\n-- name: B\nSELECT 1;\n\n-- name: C\nSELECT x FROM t WHERE y = $1;\n"))
	if err != nil {
		t.Fatal(err)
	}
	var rqs []runQuery
	for i := range qs {
		rqs = append(rqs, runQuery{q: &qs[i]})
	}
	got := executions(rqs)
	want := []execRef{{0, 0}, {0, 1}, {1, 0}, {2, -1}}
	if len(got) != len(want) {
		t.Fatalf("executions = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("executions = %v, want %v (A twice, B, C with generated arguments)", got, want)
		}
	}
}
