package cli

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestRunExitCodes runs `straddle run` in process and checks its exit code and
// what it tells the user. Cases that need no server come first: a malformed
// script is rejected before any engine starts.
func TestRunExitCodes(t *testing.T) {
	bad := "../../scenarios/testdata/bad/"
	tests := []struct {
		name   string
		args   []string
		server bool
		want   int
		stdout []string // regexps
		stderr []string
		err    string // regexp on the error Run returns (Main prints it)
		reason string
	}{
		{
			name: "unknown command", args: []string{bad + "unknown_command.txtar"}, want: ExitUsage,
			stderr: []string{`(?m)^\.\./\.\./scenarios/testdata/bad/unknown_command\.txtar:3: unknown command "stpe" \(did you mean step\?\)`},
			err:    `^1 scenario is malformed: fix the lines above`,
			reason: "an unknown command is found by lint, at its line, with a suggestion",
		},
		{
			name: "bad phase", args: []string{bad + "bad_phase.txtar"}, want: ExitUsage,
			stderr: []string{`bad_phase\.txtar:3: step: unknown phase "expnad" \(want baseline, expand, migrate or contract\)`},
			reason: "a bad phase name is rejected with the phases to choose from",
		},
		{
			name: "missing file", args: []string{bad + "missing_file.txtar"}, want: ExitUsage,
			stderr: []string{`missing_file\.txtar:5: load: seed\.sql: no such file .*add it to the archive as -- seed\.sql --`},
			reason: "a file the archive lacks is named, with how to add it",
		},
		{
			name: "bad query file", args: []string{bad + "bad_query_file.txtar"}, want: ExitUsage,
			stderr: []string{`bad_query_file\.txtar:10: old\.sql:2: query GetUser: args: value 1: unterminated string`},
			reason: "an error inside a query file points at its line in the archive",
		},
		{
			name: "several bad scripts", args: []string{bad}, want: ExitUsage,
			stderr: []string{`bad_condition\.txtar:2: unknown condition \[postgres\]`, `unknown_command\.txtar:3:`},
			err:    `^7 scenarios are malformed`,
			reason: "a directory given explicitly is searched even when it is called bad; every script is linted",
		},
		{
			name: "no such path", args: []string{"testdata/run/nope.txtar"}, want: ExitUsage,
			reason: "a missing path is bad usage",
		},
		{
			name: "bad flag", args: []string{"--reports", "some", "testdata/run/pass.txtar"}, want: ExitUsage,
			reason: "flag values are checked",
		},
		{
			name: "only matches nothing", args: []string{"--engine", "postgres", "--only", "nosuch*", "testdata/run/pass.txtar"}, want: ExitUsage,
			err:    `--only and --skip leave none of the 1 cells`,
			reason: "filters that leave no cell are bad usage, before any server starts",
		},
		{
			name: "bad shard", args: []string{"--engine", "postgres", "--shard", "3/2", "testdata/run/pass.txtar"}, want: ExitUsage,
			err:    `--shard "3/2": want i/n with 1 <= i <= n`,
			reason: "a shard out of range is bad usage",
		},
		{
			name: "empty shard", args: []string{"--provider", "local", "--engine", "postgres", "--shard", "3/3", "--format", "json", "testdata/run/pass.txtar"}, want: ExitCompatible,
			stdout: []string{`"shard": "3/3"`, `"cells": \[\]`, `"size": 1`}, stderr: []string{`(?m)^nothing to run \(shard 3/3: 0 of the matrix's 1 cells\)$`},
			reason: "a shard with no cell starts nothing and still writes the report merge needs",
		},
		{
			name: "pass", args: []string{"--engine", "postgres", "--engine", "mariadb", "testdata/run/pass.txtar"}, server: true, want: ExitCompatible,
			stdout: []string{`(?m)^PASS  pass  postgres:\d+`, `(?m)^PASS  pass  mariadb:\d+`, `(?m)^=== pass \(testdata/run/pass\.txtar\)`, `old breaks at expand/drop`, `(?m)^ok    1 scenario × 2 engines \(2 runs\): 2 passed; wall time \d+\.\d\ds`},
			reason: "a scenario that proves an incompatibility passes; the run prints its report and times",
		},
		{
			name: "assertion fails", args: []string{"--engine", "postgres", "testdata/run/assertion_fails.txtar", "testdata/run/pass.txtar"}, server: true, want: ExitIncompatible,
			stdout: []string{`(?m)^FAIL  assertion_fails  postgres`, `testdata/run/assertion_fails\.txtar:5: cell expand/drop old pass: got violation`, `(?m)^FAIL  2 scenarios × 1 engine \(2 runs\): 1 passed, 1 failed;`},
			reason: "a failed assertion is exit 1, reported at its line",
		},
		{
			name: "engine chosen by the script", args: []string{"--engine", "postgres", "--engine", "mariadb", "testdata/run/engine_only.txtar"}, server: true, want: ExitCompatible,
			stdout: []string{`(?m)^PASS  engine_only  postgres`, `(?m)^SKIP  engine_only  mariadb:[0-9.]+  0\.\d\ds  \(the script runs on postgres only, not on mariadb\)`, `1 passed, 1 skipped`},
			reason: "engine SPEC... skips the script on other engines; a skip is not a failure",
		},
		{
			name: "variant missing at run time", args: []string{"--engine", "mariadb", "testdata/run/variant_missing.txtar"}, server: true, want: ExitUsage,
			stdout: []string{`(?m)^BAD   variant_missing  mariadb`, `variant_missing\.txtar:4: step: rename\.sql: no such file \(nor rename\.mariadb\.sql, rename\.mysql\.sql\)`},
			reason: "bad input found while running (no file for this engine) is still exit 2",
		},
		{
			name: "fixture fails", args: []string{"--engine", "postgres", "testdata/run/fixture_fails.txtar"}, server: true, want: ExitUsage,
			stdout: []string{`fixture_fails\.txtar:3: load: seed\.sql:2: .*42703.*fix the fixture`},
			reason: "a fixture the server rejects makes the script malformed, with the statement's line",
		},
		{
			name: "engine cannot start", args: []string{"--provider", "local", "--engine", "postgres:9.1", "testdata/run/pass.txtar"}, want: ExitEnvironment,
			stdout: []string{`(?m)^ERR   engine postgres:9\.1: `}, err: `^no engine could start`,
			reason: "an engine that cannot start is an environment failure, never a verdict",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.server && testing.Short() {
				t.Skip("starts database servers")
			}
			var stdout, stderr bytes.Buffer
			err := Run(t.Context(), append([]string{"run"}, tt.args...), &stdout, &stderr)
			if got := ExitCode(err); got != tt.want {
				t.Fatalf("exit %d, want %d (%s); err: %v\nstdout:\n%s\nstderr:\n%s", got, tt.want, tt.reason, err, stdout.String(), stderr.String())
			}
			for _, re := range tt.stdout {
				if !regexp.MustCompile(re).MatchString(stdout.String()) {
					t.Errorf("stdout does not match %q (%s):\n%s", re, tt.reason, stdout.String())
				}
			}
			for _, re := range tt.stderr {
				if !regexp.MustCompile(re).MatchString(stderr.String()) {
					t.Errorf("stderr does not match %q (%s):\n%s", re, tt.reason, stderr.String())
				}
			}
			if tt.err != "" && !regexp.MustCompile(tt.err).MatchString(errString(err)) {
				t.Errorf("error %q does not match %q", errString(err), tt.err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestHelpScenario checks that the scenario reference lists every command.
func TestHelpScenario(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := Run(t.Context(), []string{"help", "scenario"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"step PHASE FILE|DIR [NAME]", "[!] cell [-when during|after] [-session long-lived|new] BOUNDARY", "[cap:transactional-ddl]", "rename.mariadb.sql"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("help scenario lacks %q:\n%s", want, stdout.String())
		}
	}
}
