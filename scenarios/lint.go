package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/input"
	"github.com/straddle-dev/straddle/harness/plan"
)

// Lint checks the script in file without a server: that every command exists
// and takes "!" where it is used, that every condition is known, and that every
// scenario command's arguments are valid and the files they name exist and parse
// (every per-engine variant of them). Lines under a condition are checked
// whatever the condition.
//
// Each error is a *plan.InputError at the script line ("file:line: message"), or
// at the line inside the archive when a file it carries is malformed. Lint
// cannot see what earlier lines do at run time (files made by cp or exec, values
// set with env): it does not complain about files that may appear that way, and
// the commands check again when the script runs.
func Lint(file string) []error {
	a, raw, err := readArchive(file)
	if err != nil {
		return []error{err}
	}
	dir, err := os.MkdirTemp("", "straddle-lint-*")
	if err != nil {
		return []error{err}
	}
	defer os.RemoveAll(dir)

	l := &linter{file: file, dir: dir, marks: markers(raw),
		vars: map[string]string{"WORK": dir, EngineVar: "postgres", "HOME": "/no-home", "devnull": os.DevNull, "/": "/", ":": ":", "$": "$", "exe": ""}}
	seen := map[string]bool{}
	for _, f := range a.Files {
		name := strings.TrimPrefix(f.Name, "$WORK/")
		if seen[name] {
			l.errorf(l.marks[name], "file %s appears twice in the archive", name)
		}
		seen[name] = true
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err == nil {
			err = os.WriteFile(p, f.Data, 0o666)
		}
		if err != nil {
			l.errorf(l.marks[name], "cannot extract %s: %v", name, err)
		}
	}
	s := &Script{dry: true, dir: dir, work: dir, names: map[string]bool{}}
	for i, line := range strings.Split(string(a.Comment), "\n") {
		l.line(s, i+1, line)
	}
	return l.errs
}

type linter struct {
	file  string
	dir   string
	marks map[string]int // archive file name → line of its "-- name --" marker
	vars  map[string]string
	errs  []error
}

func (l *linter) errorf(line int, format string, args ...any) {
	l.errs = append(l.errs, plan.Errorf(l.file, line, format, args...))
}

// markers maps each archived file to the line of its marker.
func markers(raw []byte) map[string]int {
	out := map[string]int{}
	for i, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "-- ") && strings.HasSuffix(line, " --") && len(line) > 6 {
			name := strings.TrimPrefix(strings.TrimSpace(line[3:len(line)-3]), "$WORK/")
			if _, dup := out[name]; !dup {
				out[name] = i + 1
			}
		}
	}
	return out
}

// fsBuiltins may create or change files, so later missing files are not errors.
var fsBuiltins = map[string]bool{"cp": true, "mv": true, "mkdir": true, "exec": true, "symlink": true, "unquote": true, "rm": true, "unix2dos": true}

func (l *linter) line(s *Script, n int, line string) {
	if strings.HasPrefix(strings.TrimSpace(line), "#") {
		return
	}
	args, unknownVar, err := splitLine(line, l.vars)
	if err != nil {
		l.errorf(n, "%v", err)
		return
	}
	for len(args) > 0 && strings.HasPrefix(args[0], "[") && strings.HasSuffix(args[0], "]") {
		cond := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(args[0][1:len(args[0])-1]), "!"))
		if err := lintCondition(cond); err != nil {
			l.errorf(n, "%v", err)
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return
	}
	neg := false
	if args[0] == "!" {
		neg, args = true, args[1:]
		if len(args) == 0 {
			l.errorf(n, "! on a line by itself: put the command after it")
			return
		}
	}
	name := args[0]
	if negOK, ok := builtins[name]; ok {
		if neg && !negOK {
			l.errorf(n, "%s does not take !", name)
		}
		switch {
		case fsBuiltins[name]:
			s.lenient = true
		case name == "cd" && len(args) == 2 && !unknownVar:
			s.dir = filepath.Join(s.dir, args[1])
		case name == "env":
			for _, kv := range args[1:] {
				if k, v, ok := strings.Cut(kv, "="); ok {
					l.vars[k] = v
				}
			}
		}
		return
	}
	var cmd *Command
	for _, c := range Commands() {
		if c.Name == name {
			cmd = &c
		}
	}
	if cmd == nil {
		l.errorf(n, "unknown command %q%s; `straddle help scenario` lists the commands", name, suggest(name))
		return
	}
	if unknownVar {
		// The arguments depend on values only the run knows.
		if cmd.Name == "step" || cmd.Name == "migrations" {
			s.unknownSteps = true
		}
		return
	}
	err = run(cmd, s, neg, args[1:])
	var ne *notExistError
	switch {
	case err == nil:
	case errors.As(err, &ne) && s.lenient:
		if cmd.Name == "step" || cmd.Name == "migrations" {
			s.unknownSteps = true
		}
	default:
		l.errs = append(l.errs, l.place(n, cmd, err))
	}
}

// place locates a command's error: at the archived file's line when it is about
// a file the archive carries, else at the script line.
func (l *linter) place(n int, cmd *Command, err error) error {
	var ie *plan.InputError
	if errors.As(err, &ie) && strings.HasPrefix(ie.File, l.dir+string(filepath.Separator)) {
		name := strings.TrimPrefix(ie.File, l.dir+string(filepath.Separator))
		if m, ok := l.marks[name]; ok && ie.Line > 0 {
			return plan.Errorf(l.file, m+ie.Line, "%s:%d: %s (%s, line %d)", name, ie.Line, ie.Msg, cmd.Name, n)
		}
		return plan.Errorf(l.file, n, "%s: %s: %s", cmd.Name, name, ie.Msg)
	}
	msg := strings.ReplaceAll(err.Error(), l.dir+string(filepath.Separator), "")
	if showUsage(err) {
		msg += " (usage: " + cmd.Usage + ")"
	}
	return plan.Errorf(l.file, n, "%s: %s", cmd.Name, msg)
}

// suggest proposes commands spelled like name.
func suggest(name string) string {
	var near []string
	for _, c := range Commands() {
		if input.Distance(name, c.Name) <= 2 || strings.HasPrefix(c.Name, name) {
			near = append(near, c.Name)
		}
	}
	for b := range builtins {
		if input.Distance(name, b) <= 1 {
			near = append(near, b)
		}
	}
	sort.Strings(near)
	if len(near) == 0 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", orList(near))
}

var (
	goVersionRE = regexp.MustCompile(`^go1\.[0-9]+$`)
	// knownPlatforms are the GOOS and GOARCH values testscript accepts as
	// conditions (the common ones).
	knownPlatforms = map[string]bool{
		"aix": true, "android": true, "darwin": true, "dragonfly": true, "freebsd": true, "illumos": true,
		"ios": true, "js": true, "linux": true, "netbsd": true, "openbsd": true, "plan9": true,
		"solaris": true, "wasip1": true, "windows": true,
		"386": true, "amd64": true, "arm": true, "arm64": true, "loong64": true, "mips": true,
		"mips64": true, "mips64le": true, "mipsle": true, "ppc64": true, "ppc64le": true,
		"riscv64": true, "s390x": true, "wasm": true,
	}
)

func lintCondition(cond string) error {
	switch {
	case cond == "short", cond == "net", cond == "link", cond == "symlink", cond == "gc", cond == "gccgo", cond == "unix":
		return nil
	case strings.HasPrefix(cond, "exec:"), goVersionRE.MatchString(cond), knownPlatforms[cond]:
		return nil
	case strings.HasPrefix(cond, "cap:"):
		_, err := engine.DialectOf(engine.Postgres).Has(strings.TrimPrefix(cond, "cap:"))
		if err != nil {
			return fmt.Errorf("condition [%s]: %v", cond, err)
		}
		return nil
	}
	return fmt.Errorf("unknown condition [%s]: want [cap:NAME] (%s) or one of testscript's (short, net, exec:PROG, unix, GOOS, GOARCH, go1.N)", cond, strings.Join(capNames(), ", "))
}

// splitLine splits a script line into words as testscript does: spaces separate
// words, '…' quotes (” is a quote inside), # starts a comment, $VAR and ${VAR}
// expand outside quotes. unknownVar reports a variable lint cannot know.
func splitLine(line string, vars map[string]string) (args []string, unknownVar bool, err error) {
	expand := func(s string) string {
		return os.Expand(s, func(k string) string {
			k = strings.TrimSuffix(k, "@R")
			v, ok := vars[k]
			if !ok {
				unknownVar = true
			}
			return v
		})
	}
	var (
		arg    string
		start  = -1
		quoted = false
		inArg  = false
	)
	for i := 0; ; i++ {
		if !quoted && (i >= len(line) || line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '#') {
			if start >= 0 {
				arg += expand(line[start:i])
				start = -1
			}
			if inArg {
				args = append(args, arg)
				arg, inArg = "", false
			}
			if i >= len(line) || line[i] == '#' {
				break
			}
			continue
		}
		if i >= len(line) {
			return nil, false, fmt.Errorf("unterminated quoted argument: close the ' quote")
		}
		inArg = true
		if line[i] == '\'' {
			if !quoted {
				if start >= 0 {
					arg += expand(line[start:i])
				}
				start, quoted = i+1, true
				continue
			}
			if i+1 < len(line) && line[i+1] == '\'' {
				arg += line[start:i]
				start = i + 1
				i++
				continue
			}
			arg += line[start:i]
			start, quoted = i+1, false
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return args, unknownVar, nil
}
