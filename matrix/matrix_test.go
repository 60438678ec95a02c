package matrix

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
)

func specs(t *testing.T, vals ...string) []engine.Spec {
	t.Helper()
	out, err := ParseEngines(vals)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func names(sps []engine.Spec) []string {
	var out []string
	for _, sp := range sps {
		out = append(out, sp.String())
	}
	return out
}

func TestParseEngines(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []string
		err    bool
		reason string
	}{
		{"plain", []string{"postgres", "mariadb"}, []string{"postgres", "mariadb"}, false, "one spec per value, as today"},
		{"versions", []string{"postgres:13,15,17,18"}, []string{"postgres:13", "postgres:15", "postgres:17", "postgres:18"}, false, "a bare version continues the flavor before it"},
		{"mixed", []string{"postgres,mariadb:10.5,10.11"}, []string{"postgres", "mariadb:10.5", "mariadb:10.11"}, false, "a flavor name starts a new flavor"},
		{"yaml flow", []string{"postgres:13", "15", "mariadb:11.8"}, []string{"postgres:13", "postgres:15", "mariadb:11.8"}, false, "YAML splits [postgres:13,15] into two items: the flavor carries over"},
		{"dedup", []string{"postgres:15", "postgres:15,15"}, []string{"postgres:15"}, false, "an engine given twice runs once"},
		{"leading version", []string{"15"}, nil, true, "a version with no flavor before it names no engine"},
		{"unknown", []string{"oracle:19"}, nil, true, "unknown flavors are bad input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEngines(tt.values)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v (%s)", err, tt.err, tt.reason)
			}
			if err != nil && !errors.Is(err, engine.ErrBadSpec) {
				t.Errorf("err = %v: want engine.ErrBadSpec", err)
			}
			if diff := cmp.Diff(tt.want, names(got)); diff != "" {
				t.Errorf("%s: (-want +got)\n%s", tt.reason, diff)
			}
		})
	}
}

// cookbook is a matrix like the acceptance one: 7 engines × inputs of uneven cost.
func cookbook(t *testing.T, inputs int) *Matrix {
	t.Helper()
	var ins []*Input
	for i := range inputs {
		ins = append(ins, &Input{Kind: KindScenario, Name: fmt.Sprintf("s%02d", i), Weight: float64(1 + i%5)})
	}
	ins = append(ins, &Input{Kind: KindCheck, Name: "app", Project: &Project{Name: "app"}, Weight: 7})
	m, err := New(Config{Engines: specs(t, "postgres:13,15,17,18", "mariadb:10.5,10.11,11.8"), Inputs: ins})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestShardsCoverEveryCellOnce(t *testing.T) {
	for _, inputs := range []int{0, 1, 2, 13} {
		m := cookbook(t, inputs)
		for n := 1; n <= 4; n++ {
			t.Run(fmt.Sprintf("%d inputs/%d shards", inputs+1, n), func(t *testing.T) {
				seen := map[string]int{}
				var loads []float64
				for i := 1; i <= n; i++ {
					cells := m.Shard(Shard{Index: i, Count: n})
					loads = append(loads, TotalCost(cells))
					for k, c := range cells {
						seen[c.ID]++
						if k > 0 && cells[k-1].Position >= c.Position {
							t.Errorf("shard %d/%d: %s before %s: cells must stay in matrix order", i, n, cells[k-1].ID, c.ID)
						}
					}
				}
				for _, c := range m.Cells {
					if seen[c.ID] != 1 {
						t.Errorf("cell %s is in %d shards, want exactly 1", c.ID, seen[c.ID])
					}
				}
				if len(seen) != len(m.Cells) {
					t.Errorf("shards hold %d distinct cells, the matrix has %d", len(seen), len(m.Cells))
				}
				// Greedy balance: no shard exceeds the mean by more than the
				// costliest cell.
				maxCell := 0.0
				for _, c := range m.Cells {
					maxCell = max(maxCell, c.Cost)
				}
				mean := TotalCost(m.Cells) / float64(n)
				for i, l := range loads {
					if l > mean+maxCell+1e-9 {
						t.Errorf("shard %d/%d costs %.1f; mean %.1f, costliest cell %.1f: unbalanced", i+1, n, l, mean, maxCell)
					}
				}
			})
		}
	}
}

func TestSplitIsDeterministic(t *testing.T) {
	a, b := cookbook(t, 13), cookbook(t, 13)
	ids := func(m *Matrix) [][]string {
		var out [][]string
		for _, cells := range m.Split(3) {
			var s []string
			for _, c := range cells {
				s = append(s, c.ID)
			}
			out = append(out, s)
		}
		return out
	}
	if diff := cmp.Diff(ids(a), ids(b)); diff != "" {
		t.Errorf("two splits of the same matrix differ (-a +b)\n%s", diff)
	}
}

func TestFilters(t *testing.T) {
	ins := []*Input{
		{Kind: KindScenario, Name: "rename_naive", Weight: 1},
		{Kind: KindScenario, Name: "stale_plan", Weight: 1},
		{Kind: KindCheck, Name: "app", Project: &Project{}, Weight: 1},
	}
	tests := []struct {
		name       string
		only, skip []string
		want       []string
		reason     string
	}{
		{"all", nil, nil, []string{
			"scenario/rename_naive@postgres:13", "scenario/rename_naive@mariadb:10.5",
			"scenario/stale_plan@postgres:13", "scenario/stale_plan@mariadb:10.5",
			"check/app@postgres:13", "check/app@mariadb:10.5"}, "input order, then engine order"},
		{"only id", []string{"scenario/stale_plan@postgres:13"}, nil, []string{"scenario/stale_plan@postgres:13"}, "a whole cell id selects one cell"},
		{"only flavor", []string{"mariadb"}, nil, []string{"scenario/rename_naive@mariadb:10.5", "scenario/stale_plan@mariadb:10.5", "check/app@mariadb:10.5"}, "a bare flavor matches every version of it"},
		{"only glob list", []string{"rename_*,check/*"}, nil, []string{
			"scenario/rename_naive@postgres:13", "scenario/rename_naive@mariadb:10.5",
			"check/app@postgres:13", "check/app@mariadb:10.5"}, "comma-separated globs, matched against the input name or kind/name"},
		{"skip", nil, []string{"stale_plan@mariadb*", "check/*"}, []string{
			"scenario/rename_naive@postgres:13", "scenario/rename_naive@mariadb:10.5",
			"scenario/stale_plan@postgres:13"}, "skip drops what any pattern matches"},
		{"only and skip", []string{"scenario/*"}, []string{"postgres:13"}, []string{
			"scenario/rename_naive@mariadb:10.5", "scenario/stale_plan@mariadb:10.5"}, "skip applies after only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(Config{Engines: specs(t, "postgres:13", "mariadb:10.5"), Inputs: ins, Only: tt.only, Skip: tt.skip})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range m.Cells {
				got = append(got, c.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got)\n%s", tt.reason, diff)
			}
		})
	}
	if _, err := New(Config{Engines: specs(t, "postgres"), Inputs: ins, Only: []string{"nothing"}}); !errors.Is(err, plan.ErrBadInput) {
		t.Errorf("--only matching nothing: err = %v, want bad input", err)
	}
	dup := append(ins, &Input{Kind: KindScenario, Name: "stale_plan"})
	if _, err := New(Config{Engines: specs(t, "postgres"), Inputs: dup}); err == nil || !strings.Contains(err.Error(), "two inputs are named scenario/stale_plan") {
		t.Errorf("duplicate input name: err = %v", err)
	}
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in     string
		want   Shard
		err    bool
		reason string
	}{
		{"2/5", Shard{2, 5}, false, "i/n"},
		{"1/1", Shard{1, 1}, false, "the whole matrix"},
		{"0/3", Shard{}, true, "shards count from 1"},
		{"4/3", Shard{}, true, "i beyond n"},
		{"2", Shard{}, true, "no n"},
		{"a/b", Shard{}, true, "not numbers"},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, error %v (%s)", tt.in, got, err, tt.want, tt.err, tt.reason)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", `
engines: [postgres:13,15, mariadb:10.5]
scenarios: [cookbook/]
projects:
  - name: app
    migrations: db/{family}
    old: git:v1:q.sql
    new: q.sql
skip: [app@mariadb*]
costs:
  scenario/load_*: 20
  "*": 3
`)
	f, costs, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"postgres:13", "15", "mariadb:10.5"}, f.Engines); diff != "" {
		t.Errorf("engines (-want +got)\n%s", diff)
	}
	if got, want := f.Scenarios[0], filepath.Join(dir, "cookbook"); got != want {
		t.Errorf("scenarios[0] = %q, want %q: paths are relative to the file", got, want)
	}
	if got := f.Projects[0]; got.Migrations != filepath.Join(dir, "db/{family}") || got.Old != "git:v1:q.sql" {
		t.Errorf("project paths = %+v: relative to the file, git: sources untouched", got)
	}
	if diff := cmp.Diff([]Cost{{"scenario/load_*", 20}, {"*", 3}}, costs); diff != "" {
		t.Errorf("costs keep the file's order (first match wins) (-want +got)\n%s", diff)
	}

	tests := []struct {
		name, text, want string
		reason           string
	}{
		{"unknown key", "engines: [postgres]\nshards: 3\n", "bad.yaml:2: matrix file:", "unknown keys are mistakes, reported at their line"},
		{"bad cost", "costs:\n  x: fast\n", "bad.yaml:2: matrix file: costs: x", "costs are numbers"},
		{"project without name", "projects:\n  - migrations: db\n", "projects[0]: name and migrations are required", "a project needs a name for its cell ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Load(write("bad.yaml", tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, plan.ErrBadInput) {
				t.Errorf("err = %v, want bad input containing %q (%s)", err, tt.want, tt.reason)
			}
		})
	}
	if _, _, err := Load(write("empty.yaml", "")); err != nil {
		t.Errorf("empty file: %v (an empty matrix file is filled by flags)", err)
	}
}

func TestCostsOverrideEstimates(t *testing.T) {
	ins := []*Input{{Kind: KindScenario, Name: "a", Weight: 2}, {Kind: KindScenario, Name: "load_big", Weight: 2}}
	m, err := New(Config{Engines: specs(t, "postgres", "mariadb"), Inputs: ins, Costs: []Cost{{"load_*", 30}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, c := range m.Cells {
		got[c.ID] = c.Cost
	}
	want := map[string]float64{
		"scenario/a@postgres": 2, "scenario/a@mariadb": 3, // estimate × flavor factor
		"scenario/load_big@postgres": 30, "scenario/load_big@mariadb": 30, // measured
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("costs (-want +got)\n%s", diff)
	}
}

func TestGitHubMatrix(t *testing.T) {
	m := cookbook(t, 2)
	var b strings.Builder
	if err := WriteGitHub(&b, m.GitHubMatrix(2)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, `{"include":[{"name":"shard 1/2","shard":"1/2","engines":"`) {
		t.Errorf("GitHub matrix = %s: want one line of {\"include\":[…]} with a job per shard", out)
	}
	g := m.GitHubMatrix(0)
	if len(g.Include) != len(m.Cells) || g.Include[0].Only != m.Cells[0].ID {
		t.Errorf("per-cell matrix has %d jobs, want %d with only = cell id", len(g.Include), len(m.Cells))
	}
	if g := m.GitHubMatrix(100); len(g.Include) != len(m.Cells) {
		t.Errorf("100 shards of %d cells: %d jobs, want empty shards left out", len(m.Cells), len(g.Include))
	}
}
