// Package input reads the user's input files — migrations, query files, scenario
// scripts and the files they name — so that no input can hang or exhaust straddle:
// only regular files are read (a FIFO would block forever, a device would never
// end), at most MaxSize bytes of each, and text must be UTF-8 without NUL bytes.
//
// Inputs: paths. Outputs: the file's bytes, or a *plan.InputError naming the path
// (and the line, for an encoding error), which wraps plan.ErrBadInput (exit 2).
//
// It must not parse: the readers of each format do, on what it returns.
package input
