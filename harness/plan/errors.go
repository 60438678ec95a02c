package plan

import (
	"errors"
	"fmt"
)

// ErrBadInput is wrapped by every error about the user's input (a scenario, a
// migration, a query file, a flag). The CLI exits 2 for it.
var ErrBadInput = errors.New("bad input")

// InputError is an error at a place in an input file. Its message starts with
// "file:line: " so editors and CI annotate the right line.
type InputError struct {
	File string
	Line int // 1-based; 0 when the error is about the whole file
	Msg  string
}

func (e *InputError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Unwrap makes errors.Is(err, ErrBadInput) true.
func (e *InputError) Unwrap() error { return ErrBadInput }

// Errorf returns an *InputError at file:line.
func Errorf(file string, line int, format string, args ...any) error {
	return &InputError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}
