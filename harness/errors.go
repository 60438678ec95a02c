package harness

import (
	"errors"
	"fmt"
	"strings"

	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// The three kinds of error a check returns, for errors.Is. The CLI exits 1 for
// ErrIncompatible, 2 for ErrBadInput and 3 for ErrEnvironment.
var (
	// ErrIncompatible: the check ran and found violations.
	ErrIncompatible = errors.New("incompatible")
	// ErrBadInput: the project's input (a migration, a query file, the
	// configuration) is wrong; it is plan.ErrBadInput.
	ErrBadInput = plan.ErrBadInput
	// ErrEnvironment: the check could not run to the end (an engine did not start,
	// a connection was lost, the context was cancelled); nothing is certified.
	ErrEnvironment = errors.New("environment failure")
)

// EnvError is an engine whose run could not complete: the result has the run
// (with its Error), and nothing it says is certified.
type EnvError struct {
	Engine string // as the report names it
	Msg    string // the run's Error, secrets redacted
}

func (e *EnvError) Error() string {
	return fmt.Sprintf("%s: environment failure, nothing certified: %s", e.Engine, e.Msg)
}

// Unwrap makes errors.Is(err, ErrEnvironment) true.
func (e *EnvError) Unwrap() error { return ErrEnvironment }

// WorkloadError is the queries that fail on their own release's baseline: a
// problem of the workload (a query, or its arguments), not of the upgrade, so
// the verdict cannot be trusted. CheckConfig.AllowWorkloadErrors judges the
// rest anyway.
type WorkloadError struct {
	Errors []verdict.WorkloadError // as in the result; at least one
}

func (e *WorkloadError) Error() string {
	return fmt.Sprintf("%v: %s (AllowWorkloadErrors judges the rest anyway)", ErrBadInput, e.Problem())
}

// Problem says what fails where and what to do, in one line.
func (e *WorkloadError) Problem() string {
	we := e.Errors[0]
	more := ""
	if n := len(e.Errors) - 1; n > 0 {
		more = fmt.Sprintf(" (and %d more, listed in the report)", n)
	}
	if we.Boundary != "" && we.Boundary != "baseline" {
		return fmt.Sprintf("the %s release's generated arguments break a constraint at %s, the first boundary it runs in, on %s: %s %s %s%s; give its arguments with -- args:",
			we.Release, we.Boundary, we.Engine, we.Query, we.Code, oneLine(we.Message), more)
	}
	return fmt.Sprintf("the %s release fails on its own baseline on %s: %s %s %s%s; fix the query or give its arguments with -- args:",
		we.Release, we.Engine, we.Query, we.Code, oneLine(we.Message), more)
}

// Unwrap makes errors.Is(err, ErrBadInput) true.
func (e *WorkloadError) Unwrap() error { return ErrBadInput }

// QueriesError is a release's queries that could not be read.
type QueriesError struct {
	Release plan.Release
	Err     error // a *plan.InputError at the file and line, for bad input
}

func (e *QueriesError) Error() string {
	return fmt.Sprintf("%s.Queries: %v", upperFirst(string(e.Release)), e.Err)
}

func (e *QueriesError) Unwrap() error { return e.Err }

// envError marks an error as an environment failure, keeping its message and
// its chain (errors.Is(err, context.Canceled) still holds).
type envError struct{ err error }

func (e *envError) Error() string   { return e.err.Error() }
func (e *envError) Unwrap() []error { return []error{ErrEnvironment, e.err} }

// environment marks err as an environment failure unless it is bad input (or
// already marked).
func environment(err error) error {
	if err == nil || errors.Is(err, ErrBadInput) || errors.Is(err, ErrEnvironment) {
		return err
	}
	return &envError{err}
}

// oneLine folds a server message onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
