package harnesstest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/straddle-dev/straddle/harness"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/auto"
	"github.com/straddle-dev/straddle/harness/engine/docker"
	"github.com/straddle-dev/straddle/harness/engine/local"
	"github.com/straddle-dev/straddle/harness/report"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// ReportDirEnv names the environment variable that, when set, is the directory
// Check writes its JSON reports to (one file per test, kept after the run).
// Otherwise they go to t.ArtifactDir(): kept under `go test -artifacts`,
// removed with the test's temporary files without it.
const ReportDirEnv = "STRADDLE_REPORT_DIR"

// ReportAttr is the test attribute (t.Attr) whose value is the JSON report's
// path; `go test -json` reports it as an "attr" event of the test.
const ReportAttr = "straddle-report"

// Provider returns the provider $STRADDLE_PROVIDER names: auto (the default:
// docker if its daemon answers, else local binaries), docker or local. Another
// value fails the test.
func Provider(t testing.TB) engine.Provider {
	t.Helper()
	switch v := os.Getenv("STRADDLE_PROVIDER"); v {
	case "", "auto":
		return auto.New(auto.Config{Docker: docker.New(docker.Config{}), Local: local.New(local.Config{})})
	case "docker":
		return docker.New(docker.Config{})
	case "local":
		return local.New(local.Config{})
	default:
		t.Fatalf("STRADDLE_PROVIDER=%s: want auto, docker or local", v)
		return nil
	}
}

// Fleet returns a fleet that starts servers with p (nil: Provider(t)), at most
// one per engine, and stops them all when t and its subtests are done. Share it
// between the checks of a test (CheckConfig.Fleet) so they share servers.
func Fleet(t testing.TB, p engine.Provider) *engine.Fleet {
	t.Helper()
	skipShort(t)
	if p == nil {
		p = Provider(t)
	}
	f := engine.NewFleet(p)
	t.Cleanup(func() {
		if err := f.Stop(context.Background()); err != nil {
			t.Errorf("stop the straddle fleet: %v", err)
		}
	})
	return f
}

// Check runs the check cfg describes (harness.Check) with t's context and
// returns its result when the upgrade is compatible. Otherwise it fails the test
// with the error and the text report. Either way the JSON report is written to a
// file (see ReportDirEnv) whose path is logged and set as the test attribute
// ReportAttr. With neither cfg.Fleet nor cfg.Provider, the servers come from
// Fleet(t, nil).
//
// To assert that an upgrade is incompatible, call harness.Check and test its
// error with errors.Is(err, harness.ErrIncompatible).
func Check(t testing.TB, cfg harness.CheckConfig) *verdict.Result {
	t.Helper()
	skipShort(t)
	if cfg.Fleet == nil && cfg.Provider == nil {
		cfg.Fleet = Fleet(t, nil)
	}
	res, err := harness.Check(t.Context(), cfg)
	if res != nil {
		writeReport(t, res)
	}
	if err != nil {
		if res == nil {
			t.Fatalf("straddle check: %v", err)
		}
		var buf bytes.Buffer
		if rerr := report.Render(&buf, "text", res, report.Options{Timings: true}); rerr != nil {
			fmt.Fprintf(&buf, "(the text report could not be rendered: %v)\n", rerr)
		}
		t.Fatalf("straddle check: %v\n\n%s", err, buf.String())
	}
	return res
}

// unsafeChars are the characters of a test name not kept in a file name.
var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// writeReport writes res as JSON and says where.
func writeReport(t testing.TB, res *verdict.Result) {
	t.Helper()
	var buf bytes.Buffer // what straddle check --format json writes
	if err := report.JSON(&buf, res, report.Options{Timings: true}); err != nil {
		t.Errorf("straddle: encode the JSON report: %v", err)
		return
	}
	dir, name := t.ArtifactDir(), "straddle-report.json"
	if d := os.Getenv(ReportDirEnv); d != "" {
		dir, name = d, unsafeChars.ReplaceAllString(t.Name(), "_")+".json"
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Errorf("straddle: $%s: %v", ReportDirEnv, err)
			return
		}
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Errorf("straddle: write the JSON report: %v", err)
		return
	}
	t.Attr(ReportAttr, path)
	t.Logf("straddle: %s; JSON report: %s", res.Verdict, path)
}

func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("straddle starts database servers (skipped with -short)")
	}
}
