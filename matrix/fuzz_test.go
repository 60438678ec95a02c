package matrix

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// inputError checks that err is bad input at a line of a file of lines lines
// (0: the whole file) whose message starts with file.
func inputError(t *testing.T, err error, file string, lines int) {
	t.Helper()
	var ie *plan.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v is no *plan.InputError", err)
	}
	if ie.File != file || !strings.HasPrefix(err.Error(), file+":") {
		t.Fatalf("error %q does not name %s", err, file)
	}
	if ie.Line < 0 || ie.Line > lines {
		t.Fatalf("error %q at line %d of a file of %d lines", err, ie.Line, lines)
	}
	if !errors.Is(err, plan.ErrBadInput) {
		t.Fatalf("error %v is not bad input", err)
	}
}

// FuzzLoad feeds matrix files to Load: an error is bad input at a line of the
// file, loading is deterministic, and what loads builds a matrix or says why not
// as bad input. Seeds: the file docs/matrix.md documents, the test's, and
// testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"engines: [postgres:13,15,17,18, mariadb:10.5,10.11,11.8]\nscenarios: [scenarios/cookbook]\nprojects:\n  - name: app\n    migrations: db/migrations\n    old: git:origin/main:db/queries\n    new: db/queries\n    baseline: \"20240101000000\"\n    no-during: false\nonly: []\nskip: [scenario/stale_*@mariadb]\ncosts:\n  scenario/lock_*: 20\n",
		"engines: [postgres]\nshard: 1/2\n",
		"costs: [1, 2]\n",
		"costs:\n  a: -1\n",
		"projects:\n  - name: x\n",
		"engines: postgres\n",
		"",
		"scenarios: [$HOME/x, ${NOPE}/y]\n",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src string) {
		p := filepath.Join(dir, "straddle-matrix.yaml")
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(src, "\n") + 1
		file, costs, err := Load(p)
		file2, costs2, err2 := Load(p)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("Load is not deterministic: %v, then %v", err, err2)
		}
		if err != nil {
			inputError(t, err, p, lines)
			return
		}
		if !reflect.DeepEqual(file.Engines, file2.Engines) || !reflect.DeepEqual(costs, costs2) {
			t.Fatalf("Load is not deterministic")
		}
		for _, c := range costs {
			if c.Seconds < 0 {
				t.Fatalf("cost %v: negative seconds", c)
			}
		}
		// What a file says feeds the matrix: engines and patterns are bad input
		// at worst.
		specs, err := ParseEngines(file.Engines)
		if err != nil {
			if !errors.Is(err, engine.ErrBadSpec) {
				t.Fatalf("engines %q: error %v is not a bad spec", file.Engines, err)
			}
			return
		}
		if len(specs) == 0 {
			specs = []engine.Spec{engine.MustParseSpec("postgres")}
		}
		inputs := []*Input{{Kind: KindScenario, Name: "a", Weight: 1}}
		for _, pr := range file.Projects {
			inputs = append(inputs, ProjectInput(pr))
		}
		_, err = New(Config{Engines: specs, Inputs: inputs, Only: file.Only, Skip: file.Skip, Costs: costs})
		if err != nil && !errors.Is(err, plan.ErrBadInput) {
			t.Fatalf("New: error %v is not bad input", err)
		}
	})
}

// FuzzParseShard: --shard parses to 1 <= i <= n or is bad input naming the flag,
// and a parsed shard round-trips through its String.
func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"1/1", "2/5", "0/3", "3/2", "1/", "/1", "+1/2", "1/2/3", " 1/2", "01/02", "9999999999999999999/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err != nil {
			if !errors.Is(err, plan.ErrBadInput) || !strings.Contains(err.Error(), "--shard") {
				t.Fatalf("ParseShard(%q): error %v is not bad input naming --shard", s, err)
			}
			return
		}
		if sh.Count < 1 || sh.Index < 1 || sh.Index > sh.Count {
			t.Fatalf("ParseShard(%q) = %v: out of range", s, sh)
		}
		again, err := ParseShard(sh.String())
		if err != nil || again != sh {
			t.Fatalf("ParseShard(%q) = %v, whose String %q parses to %v, %v", s, sh, sh.String(), again, err)
		}
	})
}

// FuzzParseEngines: --engine values (one per line of the input) parse to
// distinct specs or a bad-spec error naming the value; each spec's String parses
// back to it, and parsing the specs' strings again gives the same list. The
// specs and a --only/--skip pattern (the second input) build a matrix or give
// bad input.
func FuzzParseEngines(f *testing.F) {
	for _, s := range [][2]string{
		{"postgres:13,15,17,18\nmariadb:10.5,10.11,11.8", "rename_*@postgres"},
		{"postgres,mariadb:10.5,10.11", "scenario/a@mariadb:10.5"},
		{"mysql:8.4\n,,\n 16 ", "*"},
		{"15,postgres", "?"},
		{"oracle", "["},
		{"postgres:", "a,,b"},
		{"postgres:latest", "\\"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, values, pat string) {
		vals := strings.Split(values, "\n")
		specs, err := ParseEngines(vals)
		if err != nil {
			if !errors.Is(err, engine.ErrBadSpec) || !strings.HasPrefix(err.Error(), "--engine ") {
				t.Fatalf("ParseEngines(%q): error %v is not a bad spec naming --engine", vals, err)
			}
			return
		}
		seen := map[string]bool{}
		var strs []string
		for _, sp := range specs {
			if seen[sp.String()] {
				t.Fatalf("ParseEngines(%q): %s twice", vals, sp)
			}
			seen[sp.String()] = true
			back, err := engine.ParseSpec(sp.String())
			if err != nil || back.String() != sp.String() {
				t.Fatalf("spec %s does not round-trip: %v, %v", sp, back, err)
			}
			strs = append(strs, sp.String())
		}
		again, err := ParseEngines([]string{strings.Join(strs, ",")})
		if err != nil || !reflect.DeepEqual(names(again), names(specs)) {
			t.Fatalf("ParseEngines(%q) = %v, reparsed %v, %v", vals, names(specs), names(again), err)
		}
		if len(specs) == 0 {
			return
		}
		in := []*Input{{Kind: KindScenario, Name: "a", Weight: 1}, {Kind: KindCheck, Name: "b", Project: &Project{Name: "b"}, Weight: 2}}
		m, err := New(Config{Engines: specs, Inputs: in, Only: []string{pat}})
		if err != nil {
			if !errors.Is(err, plan.ErrBadInput) {
				t.Fatalf("--only %q: error %v is not bad input", pat, err)
			}
			return
		}
		for _, c := range m.Cells {
			if ok, err := Match(pat, c); err == nil && !ok && !strings.Contains(pat, ",") && pat == strings.TrimSpace(pat) {
				t.Fatalf("--only %q kept %s, which it does not match", pat, c.ID)
			}
		}
		if _, err := New(Config{Engines: specs, Inputs: in, Skip: []string{pat}}); err != nil && !errors.Is(err, plan.ErrBadInput) {
			t.Fatalf("--skip %q: error %v is not bad input", pat, err)
		}
	})
}

// FuzzReadReport feeds JSON reports to ReadReport and Merge, as straddle report
// merge reads them: an error is bad input naming the file (at a line of it); a
// report that merges alone merges again to the same result, also after a JSON
// round trip. Seeds: a report of each shape Merge accepts and refuses.
func FuzzReadReport(f *testing.F) {
	m := cookbookFuzz(f)
	for _, n := range []int{1, 2} {
		for i := 1; i <= n; i++ {
			s := Shard{Index: i, Count: n}
			r := fakeReport(f, m, s, m.Shard(s))
			data, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(data))
		}
	}
	for _, s := range []string{
		`{"verdict":"compatible","runs":[],"violations":[]}`,
		`{"verdict":"compatible","runs":[],"violations":[],"matrix":{"digest":"sha256:x","shard":"1/1","size":1,"cells":[{"id":"a","position":0,"status":"pass","runs":3}]}}`,
		`{"runs":[{"scenario":"s","engine":"postgres","boundaries":[{"phase":"expand","releases":{"old":{"required":true}}}]}]}`,
		`{"runs":[{"boundaries":[{"releases":[]}]}]}`,
		"{\n\"runs\": 1\n}",
		"[",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		const name = "shard.json"
		lines := strings.Count(src, "\n") + 1
		r, err := ReadReport(name, []byte(src))
		if err != nil {
			inputError(t, err, name, lines)
			return
		}
		merged, err := Merge([]*verdict.Result{r}, []string{name})
		if err != nil {
			if !errors.Is(err, plan.ErrBadInput) {
				t.Fatalf("Merge: error %v is not bad input", err)
			}
			return
		}
		again, err := Merge([]*verdict.Result{merged}, []string{"merged.json"})
		if err != nil {
			t.Fatalf("a merged report does not merge again: %v", err)
		}
		if diff := cmp.Diff(encode(t, merged), encode(t, again)); diff != "" {
			t.Fatalf("merging a merged report changes it (-once +twice):\n%s", diff)
		}
		data, err := json.Marshal(merged)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ReadReport("merged.json", data)
		if err != nil {
			t.Fatalf("the merged report does not read back: %v", err)
		}
		if diff := cmp.Diff(encode(t, merged), encode(t, back)); diff != "" {
			t.Fatalf("the merged report changes through JSON (-merged +read back):\n%s", diff)
		}
	})
}

// cookbookFuzz is a small matrix for seeds.
func cookbookFuzz(f *testing.F) *Matrix {
	m, err := New(Config{
		Engines: []engine.Spec{engine.MustParseSpec("postgres"), engine.MustParseSpec("mariadb")},
		Inputs:  []*Input{{Kind: KindScenario, Name: "a", Weight: 1}, {Kind: KindScenario, Name: "b", Weight: 2}},
	})
	if err != nil {
		f.Fatal(err)
	}
	return m
}
