package scenarios_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/auto"
	"github.com/straddle-dev/straddle/harness/engine/docker"
	_ "github.com/straddle-dev/straddle/harness/engine/driver"
	"github.com/straddle-dev/straddle/harness/engine/local"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/scenarios"
)

var update = flag.Bool("update", false, "rewrite README.md's generated part, the lint.want files of testdata/bad, and the files scripts cmp against")

// One fleet for the whole test binary: a server per engine, a database per script.
var (
	fleet *engine.Fleet
	specs []engine.Spec
)

// TestMain starts no server itself: the fleet starts each engine on first use
// ($STRADDLE_PROVIDER: auto, docker or local; $STRADDLE_ENGINES: a comma list,
// default postgres,mariadb) and stops them all at the end.
func TestMain(m *testing.M) {
	flag.Parse()
	list := os.Getenv("STRADDLE_ENGINES")
	if list == "" {
		list = "postgres,mariadb"
	}
	for _, s := range strings.Split(list, ",") {
		specs = append(specs, engine.MustParseSpec(s))
	}
	var p engine.Provider
	switch os.Getenv("STRADDLE_PROVIDER") {
	case "docker":
		p = docker.New(docker.Config{})
	case "local":
		p = local.New(local.Config{})
	case "", "auto":
		p = auto.New(auto.Config{Docker: docker.New(docker.Config{}), Local: local.New(local.Config{})})
	default:
		fmt.Fprintf(os.Stderr, "STRADDLE_PROVIDER=%s: the scenario tests take auto, docker or local\n", os.Getenv("STRADDLE_PROVIDER"))
		os.Exit(2)
	}
	fleet = engine.NewFleet(p)
	code := m.Run()
	if err := fleet.Stop(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "stop engines:", err)
		code = 1
	}
	os.Exit(code)
}

// server returns the engine's server, failing the test when it cannot start.
func server(t *testing.T, spec engine.Spec) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts database servers")
	}
	if _, err := fleet.Server(t.Context(), spec); err != nil {
		t.Fatalf("engine %s: %v", spec, err)
	}
}

// TestCookbook runs every cookbook scenario on every engine, as go test
// subtests: TestCookbook/postgres/rename_column_naive.
func TestCookbook(t *testing.T) {
	for _, spec := range specs {
		t.Run(spec.String(), func(t *testing.T) {
			t.Parallel()
			server(t, spec)
			p := scenarios.Params(scenarios.Config{Context: t.Context(), Fleet: fleet, Engine: spec})
			p.Dir = "cookbook"
			p.UpdateScripts = *update
			testscript.Run(t, p)
		})
	}
}

// TestScripts runs the scripts that exercise the commands the cookbook does not.
func TestScripts(t *testing.T) {
	for _, spec := range specs {
		t.Run(spec.String(), func(t *testing.T) {
			t.Parallel()
			server(t, spec)
			p := scenarios.Params(scenarios.Config{Context: t.Context(), Fleet: fleet, Engine: spec})
			p.Dir = "testdata/scripts"
			p.UpdateScripts = *update
			testscript.Run(t, p)
		})
	}
}

// TestLintCookbook keeps the cookbook free of what Lint finds.
func TestLintCookbook(t *testing.T) {
	files, err := filepath.Glob("cookbook/*.txtar")
	if err != nil || len(files) < 8 {
		t.Fatalf("cookbook: %d scenarios, %v; want at least 8", len(files), err)
	}
	more, _ := filepath.Glob("testdata/scripts/*.txtar")
	files = append(files, more...)
	for _, f := range files {
		for _, err := range scenarios.Lint(f) {
			t.Errorf("%v", err)
		}
	}
}

// TestLintBad checks that each malformed script of testdata/bad is rejected
// with the messages of its lint.want file, each at file:line.
func TestLintBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata/bad: %v", err)
	}
	for _, f := range files {
		t.Run(scenarios.ScriptName(f), func(t *testing.T) {
			errs := scenarios.Lint(f)
			var got strings.Builder
			for _, err := range errs {
				if !errors.Is(err, plan.ErrBadInput) {
					t.Errorf("%v: not a bad-input error", err)
				}
				fmt.Fprintln(&got, err)
			}
			a, err := txtar.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			idx := -1
			for i, file := range a.Files {
				if file.Name == "lint.want" {
					idx = i
				}
			}
			if *update {
				if idx < 0 {
					a.Files = append(a.Files, txtar.File{Name: "lint.want"})
					idx = len(a.Files) - 1
				}
				a.Files[idx].Data = []byte(got.String())
				if err := os.WriteFile(f, txtar.Format(a), 0o666); err != nil {
					t.Fatal(err)
				}
				return
			}
			if idx < 0 {
				t.Fatalf("%s has no lint.want file; run go test -update", f)
			}
			if got.Len() == 0 {
				t.Fatalf("Lint found nothing wrong")
			}
			if diff := cmp.Diff(string(a.Files[idx].Data), got.String()); diff != "" {
				t.Errorf("lint messages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadme fails when README.md's generated part is stale; -update rewrites it.
func TestReadme(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := strings.Cut(string(raw), scenarios.ReadmeMarker)
	if !ok {
		t.Fatalf("README.md lacks the marker line %q", scenarios.ReadmeMarker)
	}
	var gen bytes.Buffer
	if err := scenarios.WriteMarkdown(&gen); err != nil {
		t.Fatal(err)
	}
	want := head + scenarios.ReadmeMarker + "\n\n" + gen.String()
	if *update {
		if err := os.WriteFile("README.md", []byte(want), 0o666); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(want, string(raw)); diff != "" {
		t.Errorf("README.md is stale; run go test ./scenarios -run TestReadme -update (-want +got):\n%s", diff)
	}
}

// TestCommandTable keeps the table sorted, unique and documented.
func TestCommandTable(t *testing.T) {
	cmds := scenarios.Commands()
	for i, c := range cmds {
		if i > 0 && cmds[i-1].Name >= c.Name {
			t.Errorf("command %q after %q: the table must be sorted and unique", c.Name, cmds[i-1].Name)
		}
		if !strings.HasPrefix(c.Usage, c.Name) || c.Summary == "" || c.Run == nil {
			t.Errorf("command %q: usage must start with the name, and summary and run be set", c.Name)
		}
	}
}
