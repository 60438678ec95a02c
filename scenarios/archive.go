package scenarios

import (
	"bytes"
	"path"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/straddle-dev/straddle/harness/input"
	"github.com/straddle-dev/straddle/harness/plan"
)

// readArchive reads the scenario script file (a regular file of at most
// input.MaxSize bytes, UTF-8 text) and parses it, refusing what would make txtar
// panic or make testscript or Lint write outside the work dir: every error is a
// *plan.InputError at the line of the offending marker.
func readArchive(file string) (*txtar.Archive, []byte, error) {
	raw, err := input.ReadText(file)
	if err != nil {
		return nil, nil, err
	}
	if err := checkMarkers(file, raw); err != nil {
		return nil, nil, err
	}
	a := txtar.Parse(raw)
	marks := markers(raw)
	for _, f := range a.Files {
		if msg := badMemberName(f.Name); msg != "" {
			return nil, nil, plan.Errorf(file, marks[strings.TrimPrefix(f.Name, "$WORK/")], "file name %q: %s", f.Name, msg)
		}
	}
	return a, raw, nil
}

// checkMarkers finds the marker lines go-internal's txtar cannot parse: "-- --"
// starts with "-- " and ends with " --", which overlap, and slicing the name out
// of it panics (slice bounds out of range) in txtar.Parse.
func checkMarkers(file string, raw []byte) error {
	for i, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if bytes.HasPrefix(line, []byte("-- ")) && bytes.HasSuffix(line, []byte(" --")) && len(line) < len("-- x --") {
			return plan.Errorf(file, i+1, "malformed file marker %q: want \"-- NAME --\"", line)
		}
	}
	return nil
}

// badMemberName says what is wrong with an archive member's name, "" when nothing:
// members are written under the script's work dir, so the name must be a relative
// path that stays inside it.
func badMemberName(name string) string {
	n := strings.TrimPrefix(name, "$WORK/")
	switch {
	case strings.TrimSpace(n) == "":
		return "empty"
	case strings.HasPrefix(n, "/") || filepath.IsAbs(n) || strings.HasPrefix(n, `\`):
		return "absolute: archive files are written inside the work dir"
	case strings.HasPrefix(n, "$"):
		return "starts with a variable other than $WORK: archive files are written inside the work dir"
	}
	for _, el := range strings.FieldsFunc(n, func(r rune) bool { return r == '/' || r == '\\' }) {
		if el == ".." {
			return "has a \"..\" element: archive files are written inside the work dir"
		}
	}
	if c := path.Clean(filepath.ToSlash(n)); c == "." {
		return "names the work dir itself"
	}
	return ""
}
