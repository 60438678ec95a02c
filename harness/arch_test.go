package harness

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/straddle-dev/straddle/harness/"

// rank orders the stages of the data flow; a package may import only lower ranks.
// Providers and test helpers sit beside their contract package.
var rank = map[string]int{
	"plan":      0,
	"schema":    0, // the schema vocabulary and its diff; beside plan
	"input":     1, // reads user files (regular only, bounded); beside engine
	"engine":    1,
	"observe":   2,
	"sqltext":   2, // the one SQL lexer, for migrations and workloads alike
	"migration": 3,
	"fixture":   3, // generated rows for tables; beside migration, never imports it
	"traffic":   3, // the contract between the runner and workloads; both import it
	"workload":  4,
	"lockwatch": 4, // lock waits and stalls while a step runs; beside workload
	"runner":    5,
	"release":   5, // executes a workload's queries; beside runner, which drives it through traffic
	"verdict":   6,
	"command":   6, // a workload stage: a release's own program as a traffic.Workload
	"report":    7,
	"session":   7, // orchestration: runner + verdict, beside report
	"certify":   7, // certificates of a verdict, beside report
	// The front door (package harness itself): one call that runs a whole check
	// through session. It may import every stage; no stage imports it.
	".": 8,
	// Test helpers around the front door (Check(t, …), Fleet(t, …)).
	"harnesstest": 9,
}

// pure packages do no I/O: no database driver, no database/sql, no os/exec.
var pure = []string{"plan", "schema", "observe", "sqltext", "traffic", "verdict", "report"}

var drivers = []string{"github.com/jackc/pgx", "github.com/go-sql-driver/mysql", "database/sql", "os/exec", "github.com/testcontainers"}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func list(t *testing.T, patterns ...string) []pkg {
	t.Helper()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	out, err := exec.Command("go", append([]string{"list", "-json=ImportPath,Imports,Deps"}, patterns...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// stage returns the top-level stage of a harness import path ("engine" for
// …/harness/engine/docker; "." for package harness itself), or "".
func stage(path string) string {
	if path == strings.TrimSuffix(mod, "/") {
		return "."
	}
	if !strings.HasPrefix(path, mod) {
		return ""
	}
	s, _, _ := strings.Cut(strings.TrimPrefix(path, mod), "/")
	return s
}

func TestImportsPointOneWay(t *testing.T) {
	for _, p := range list(t) {
		from := stage(p.ImportPath)
		r, ok := rank[from]
		if !ok {
			continue
		}
		for _, imp := range p.Imports {
			to := stage(imp)
			if to == "" || to == from {
				continue
			}
			if rank[to] >= r {
				t.Errorf("%s imports %s: %s is a later stage than %s", p.ImportPath, imp, to, from)
			}
		}
	}
}

func TestPurePackagesDoNoIO(t *testing.T) {
	for _, p := range list(t) {
		from := stage(p.ImportPath)
		isPure := p.ImportPath == mod+"engine" // the contracts package: no driver, so pure stages can use its types
		for _, s := range pure {
			isPure = isPure || from == s
		}
		if !isPure || strings.Contains(p.ImportPath, "test") {
			continue
		}
		for _, d := range p.Deps {
			for _, bad := range drivers {
				if p.ImportPath == mod+"engine" && strings.HasPrefix(bad, "database/sql") {
					continue // the contract hands out *sql.DB; it opens nothing itself
				}
				if d == bad || strings.HasPrefix(d, bad+"/") {
					t.Errorf("%s depends on %s; %s must do no I/O", p.ImportPath, d, from)
				}
			}
		}
	}
}

// readers are stages that read user files and talk to no database: what they
// produce is executed by a later stage (workload's queries by release).
var readers = []string{"workload", "migration", "input", "plan"}

func TestReadersTalkToNoDatabase(t *testing.T) {
	for _, p := range list(t) {
		from := stage(p.ImportPath)
		if !slices.Contains(readers, from) || strings.Contains(p.ImportPath, "test") {
			continue
		}
		// database/sql comes in through engine's contract types; no driver may.
		for _, d := range append(p.Imports, p.Deps...) {
			for _, bad := range []string{"github.com/jackc/pgx", "github.com/go-sql-driver/mysql", "github.com/testcontainers"} {
				if d == bad || strings.HasPrefix(d, bad+"/") {
					t.Errorf("%s depends on %s: %s reads files and talks to no database", p.ImportPath, d, from)
				}
			}
		}
		if slices.Contains(p.Imports, "database/sql") {
			t.Errorf("%s imports database/sql: %s reads files and talks to no database", p.ImportPath, from)
		}
	}
}

// matrix (top level, beside harness) multiplies runs but runs nothing: it may use
// the types of plan, engine and verdict, never a driver, a provider or a runner.
func TestMatrixRunsNothing(t *testing.T) {
	const matrix = "github.com/straddle-dev/straddle/matrix"
	allowed := map[string]bool{mod + "plan": true, mod + "schema": true, mod + "engine": true, mod + "verdict": true, mod + "observe": true}
	found := false
	for _, p := range list(t, "../matrix") {
		if p.ImportPath != matrix {
			continue
		}
		found = true
		for _, d := range p.Deps {
			if strings.HasPrefix(d, mod) && !allowed[d] {
				t.Errorf("matrix depends on %s: it may use only the types of %v", d, []string{"plan", "engine", "verdict"})
			}
			for _, bad := range drivers {
				if bad == "database/sql" {
					continue // through engine's contract, which opens nothing itself
				}
				if d == bad || strings.HasPrefix(d, bad+"/") {
					t.Errorf("matrix depends on %s: it runs nothing", d)
				}
			}
		}
	}
	if !found {
		t.Errorf("go list did not list %s", matrix)
	}
}

// apart lists stages that rank would let one import, but that meet only through
// a contract package of a lower rank: a type both need lives there, once.
var apart = []struct{ from, to, through string }{
	{"runner", "workload", "traffic"},
	{"runner", "command", "traffic"},
	{"command", "workload", "traffic"},
	{"lockwatch", "workload", "traffic"},
	{"command", "release", "traffic"},
}

func TestStagesMeetThroughContracts(t *testing.T) {
	for _, p := range list(t) {
		from := stage(p.ImportPath)
		for _, a := range apart {
			if from != a.from {
				continue
			}
			for _, imp := range p.Imports {
				if stage(imp) == a.to {
					t.Errorf("%s imports %s: %s and %s meet through package %s", p.ImportPath, imp, a.from, a.to, a.through)
				}
			}
		}
	}
}
