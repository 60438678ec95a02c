// Package scenarios is the scenario language of straddle: testscript commands that
// start a rollout on a real server, apply migrations phase by phase while the old
// and the new release's queries run, and assert on what broke where. The cookbook
// of scripts in cookbook/ is written in it and is also the acceptance suite.
//
// Inputs: txtar scripts (their command lines and the files they carry: migration
// steps, query files, fixtures), a Config naming the run's engine fleet and the
// engine a script runs on. Outputs: testscript.Params for go test (Params) and
// for `straddle run` (Run, with a small testscript.T), each script's Outcome
// (the rollout it drove, for reports), Lint errors for malformed scripts
// ("file:line: message"), and the command reference (WriteHelp, WriteMarkdown)
// generated from the one sorted command table.
//
// Commands are data plus a function, kept in one table (Commands): a new command
// is one more entry. Each command validates its arguments before it touches the
// database, and Lint runs that validation on a script without a server, so a
// malformed script is rejected before any engine starts. Errors fall in three
// kinds, which `straddle run` maps to exit codes: bad input (the script is wrong:
// exit 2), a failed assertion (the scenario's expectation does not hold: exit 1)
// and environment failures (exit 3).
//
// Scripts test capabilities ([cap:transactional-ddl], from engine.Capabilities),
// never engine names, and SQL that differs between engines lives in per-engine
// file variants (rename.postgres.sql, rename.mysql.sql) picked by the commands.
//
// It must not decide verdicts (package verdict does), render reports itself
// (package report does), or re-implement a rollout (package session does).
package scenarios
