package input

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/straddle-dev/straddle/harness/plan"
)

// MaxSize is the largest input file straddle reads: 64 MiB, far above any
// migration or query file, far below what would exhaust a CI runner.
const MaxSize = 64 << 20

// ReadFile reads the regular file at path, at most MaxSize bytes. A path that is
// no regular file (a FIFO, a device, a socket, a directory), or a larger file, is
// bad input naming the path; a file that cannot be opened is too (the message
// keeps the reason).
func ReadFile(path string) ([]byte, error) {
	// Stat before opening: opening a FIFO for reading blocks until a writer comes.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, plan.Errorf(path, 0, "cannot read: %v", reason(err))
	}
	if err := regular(path, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, plan.Errorf(path, 0, "cannot read: %v", reason(err))
	}
	defer f.Close()
	// Again on the open file: the path may have been swapped in between.
	if fi, err = f.Stat(); err != nil {
		return nil, plan.Errorf(path, 0, "cannot read: %v", reason(err))
	}
	if err := regular(path, fi); err != nil {
		return nil, err
	}
	if fi.Size() > MaxSize {
		return nil, plan.Errorf(path, 0, "larger than %d MiB: not read (straddle reads input files up to that size)", MaxSize>>20)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1)) // it may grow meanwhile
	if err != nil {
		return nil, plan.Errorf(path, 0, "cannot read: %v", reason(err))
	}
	if len(b) > MaxSize {
		return nil, plan.Errorf(path, 0, "larger than %d MiB: not read (straddle reads input files up to that size)", MaxSize>>20)
	}
	return b, nil
}

// ReadText is ReadFile for text: it also checks the content with CheckText.
func ReadText(path string) ([]byte, error) {
	b, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return b, CheckText(path, b)
}

// CheckText returns a *plan.InputError at the line of the first NUL byte or invalid
// UTF-8 sequence in src, the text of the file named file; nil when there is none.
func CheckText(file string, src []byte) error {
	s := string(src)
	if off, msg := Invalid(s); off >= 0 {
		return plan.Errorf(file, strings.Count(s[:off], "\n")+1, "%s", msg)
	}
	return nil
}

// Invalid returns the byte offset of the first NUL byte or invalid UTF-8 sequence
// in the text src and what is wrong there, or -1. A server would reject either, as
// an error straddle could not tell from a server going away: it is bad input.
func Invalid(src string) (off int, msg string) {
	nul := strings.IndexByte(src, 0)
	bad := -1
	if !utf8.ValidString(src) {
		for i := 0; i < len(src); {
			r, n := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && n == 1 {
				bad = i
				break
			}
			i += n
		}
	}
	switch {
	case nul >= 0 && (bad < 0 || nul < bad):
		return nul, fmt.Sprintf("NUL byte: SQL text cannot hold one; is this a binary file?")
	case bad >= 0:
		return bad, fmt.Sprintf("invalid UTF-8 (byte 0x%02x): save the file as UTF-8", src[bad])
	}
	return -1, ""
}

// regular returns the bad-input error for anything but a regular file.
func regular(path string, fi fs.FileInfo) error {
	m := fi.Mode()
	if m.IsRegular() {
		return nil
	}
	kind := "not a regular file"
	switch {
	case m.IsDir():
		kind = "a directory, not a file"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO), not a regular file: it would be read forever"
	case m&fs.ModeSocket != 0:
		kind = "a socket, not a regular file"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		kind = "a device, not a regular file"
	}
	return plan.Errorf(path, 0, "%s", kind)
}

// reason drops the path an *fs.PathError repeats: the InputError names it already.
func reason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w", pe.Err)
	}
	return err
}
