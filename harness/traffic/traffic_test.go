package traffic

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
