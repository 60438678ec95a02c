package release

import (
	"testing"

	"github.com/straddle-dev/straddle/harness/workload"
)

func TestExecutionsFollowPassOrder(t *testing.T) {
	qs, err := workload.Parse("q.sql", []byte("-- name: A\n-- args: 1\n-- args: 2\nSELECT $1;\n\n-- name: B\nSELECT 1;\n\n-- name: C\nSELECT x FROM t WHERE y = $1;\n"))
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
