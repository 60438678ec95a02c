package workload

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/input"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/sqltext"
)

// ParseFile reads and parses the query file at path.
func ParseFile(path string) ([]Query, error) {
	src, err := input.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read queries: %w", err)
	}
	return Parse(path, src)
}

var (
	// directiveRE matches "-- key: value" comment lines.
	directiveRE = regexp.MustCompile(`^--\s*([A-Za-z_-]+)\s*:(.*)$`)
	nameRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// misspelled maps directive names people plausibly mistype to the real one
	// (directives are lowercase); other "-- word:" comments are ordinary comments,
	// such as sqlc doc comments.
	misspelled = map[string]string{
		"arg": "args", "argument": "args", "arguments": "args", "expects": "expect", "engines": "engine",
	}
)

// Parse parses a query file. file names it in errors, which are *plan.InputError
// values ("file:line: message") wrapping plan.ErrBadInput.
func Parse(file string, src []byte) ([]Query, error) {
	return ParseFamily(file, src, "")
}

// ParseFamily parses a query file written for family f, as a sqlc config's engine
// says: its queries run on f only, and on mysql ? is a placeholder. With f "" the
// file is for every family, and ? is a placeholder in a statement without $N
// (postgres's jsonb operators ?| and ?& excepted); give such a query
// "-- engine: postgres" to keep a jsonb ? as an operator.
func ParseFamily(file string, src []byte, f engine.Family) ([]Query, error) {
	if err := input.CheckText(file, src); err != nil {
		return nil, err
	}
	p := &parser{file: file, family: f}
	lines := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	for i, line := range lines {
		if err := p.line(i+1, line); err != nil {
			return nil, err
		}
	}
	if err := p.finish(len(lines) + 1); err != nil {
		return nil, err
	}
	return p.queries, nil
}

// parser is the state of Parse between lines.
type parser struct {
	file    string
	family  engine.Family // the family of the whole file; "" for every family
	queries []Query
	byName  map[string]int // query name → line of its "-- name:"

	// The query being read, if any.
	q        *Query
	argLines []int        // line of each -- args: line of q
	argSets  [][]argValue // the values of each -- args: line of q
	body     []string
	bodyLine int  // line of the first line of body; 0 before the SQL starts
	ended    bool // q's statement ended with ";" at the end of a line

	expectLine int // line of the first -- expect: line of q

	// Text outside any query: before the first -- name:, or after a statement
	// ended; it may hold comments only. outsideLine is the line of outside[0].
	outside     []string
	outsideLine int
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return plan.Errorf(p.file, line, format, args...)
}

func (p *parser) line(n int, line string) error {
	trimmed := strings.TrimSpace(line)
	m := directiveRE.FindStringSubmatch(trimmed)
	var key, value string
	if m != nil {
		key, value = m[1], strings.TrimSpace(m[2])
	} else if v, ok := otherNameLine(trimmed); ok {
		key, value = "name", v
	}
	if key == "name" {
		if err := p.finish(n); err != nil {
			return err
		}
		return p.start(n, value)
	}
	// Directives count only in a query's header, between -- name: and its SQL.
	if m != nil && p.q != nil && p.bodyLine == 0 && !p.ended {
		return p.directive(n, key, value)
	}
	if m != nil && isDirective(key) {
		if p.q == nil {
			return p.errorf(n, "-- %s: before the first -- name: line; start the query with -- name: NAME", key)
		}
		return p.errorf(n, "-- %s: after the SQL of query %s; put it between -- name: and the SQL", key, p.q.Name)
	}
	if p.q == nil || p.ended {
		if len(p.outside) == 0 {
			p.outsideLine = n
		}
		p.outside = append(p.outside, line)
		return nil
	}
	if p.bodyLine == 0 {
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			return nil // a doc comment of the query, not part of its SQL
		}
		p.bodyLine = n
	}
	p.body = append(p.body, line)
	return p.checkEnd(n)
}

// otherNameLine reads the name line forms sqlc accepts besides "-- name:":
// "/* name: N :cmd */" and "# name: N :cmd" (mysql comments).
func otherNameLine(trimmed string) (string, bool) {
	if rest, ok := strings.CutPrefix(trimmed, "/*"); ok {
		body, closed := strings.CutSuffix(rest, "*/")
		if v, ok := strings.CutPrefix(strings.TrimSpace(body), "name:"); ok && closed && !strings.Contains(body, "*/") {
			return strings.TrimSpace(v), true
		}
		return "", false
	}
	if rest, ok := strings.CutPrefix(trimmed, "#"); ok {
		if v, ok := strings.CutPrefix(strings.TrimSpace(rest), "name:"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func isDirective(key string) bool {
	switch key {
	case "args", "engine", "expect":
		return true
	}
	return false
}

// start begins the query of a "-- name: NAME [:cmd]" line.
func (p *parser) start(n int, value string) error {
	fields := strings.Fields(value)
	if len(fields) == 0 {
		return p.errorf(n, "-- name: needs a query name, e.g. -- name: GetUser :one")
	}
	if len(fields) > 2 {
		return p.errorf(n, "-- name: %s: unexpected %q; write -- name: NAME [:cmd]", value, strings.Join(fields[2:], " "))
	}
	name := fields[0]
	if !nameRE.MatchString(name) {
		return p.errorf(n, "query name %q is not an identifier (letters, digits and _, not starting with a digit)", name)
	}
	var cmd Cmd
	if len(fields) == 2 {
		cmd = Cmd(strings.ToLower(fields[1]))
		if _, ok := cmds[cmd]; !ok {
			return p.errorf(n, "query %s: unknown command %q (want %s, or none)", name, fields[1], cmdNames)
		}
	}
	if prev, ok := p.byName[name]; ok {
		return p.errorf(n, "query %s is already defined on line %d; query names must be unique", name, prev)
	}
	if p.byName == nil {
		p.byName = map[string]int{}
	}
	p.byName[name] = n
	p.q = &Query{Name: name, Cmd: cmd, File: p.file, Line: n, Family: p.family}
	return nil
}

// directive applies a header line "-- key: value" of the current query.
func (p *parser) directive(n int, key, value string) error {
	q := p.q
	switch key {
	case "args":
		set, err := parseArgValues(value)
		if err != nil {
			return p.errorf(n, "query %s: args: %v", q.Name, err)
		}
		p.argSets = append(p.argSets, set)
		p.argLines = append(p.argLines, n)
	case "engine":
		if q.Family != "" && p.family == "" {
			return p.errorf(n, "query %s: a second -- engine: line; a query runs on one family or on all", q.Name)
		}
		spec, err := engine.ParseSpec(value)
		if err != nil || spec.Version != "" || spec.Image != "" {
			return p.errorf(n, "query %s: engine %q: want postgres or mysql (mariadb counts as mysql), without a version", q.Name, value)
		}
		if p.family != "" && spec.Family() != p.family {
			return p.errorf(n, "query %s: -- engine: %s in a file for %s; remove the line or move the query", q.Name, value, p.family)
		}
		q.Family = spec.Family()
	case "expect":
		if q.Expect == nil {
			q.Expect = &Expect{}
			p.expectLine = n
		}
		if err := parseExpect(value, q.Expect); err != nil {
			return p.errorf(n, "query %s: expect: %v", q.Name, err)
		}
	default:
		if real, ok := misspelled[key]; ok {
			return p.errorf(n, "query %s: unknown directive -- %s:; did you mean -- %s:?", q.Name, key, real)
		}
		// Any other "-- word: …" is an ordinary comment (sqlc doc comments).
	}
	return nil
}

// checkEnd ends the current statement when line n ends with ";" outside strings and
// comments. A ";" elsewhere is a second statement in one query.
func (p *parser) checkEnd(n int) error {
	body := strings.Join(p.body, "\n")
	toks, lerr := lex(body, familyOrPostgres(p.q.Family))
	if lerr != nil {
		return nil // an open string or comment: the statement goes on
	}
	for i, t := range toks {
		if t.Kind != tokPunct || t.Text != ";" {
			continue
		}
		if i != len(toks)-1 {
			line := p.bodyLine + strings.Count(body[:t.Pos], "\n")
			return p.errorf(line, "query %s: more than one statement; end the statement with ; at the end of its line and start the next with -- name: NAME", p.q.Name)
		}
		p.q.SQL = strings.TrimSpace(body[:t.Pos])
		p.ended = true
	}
	return nil
}

// finish completes the current query, if any, and checks the text outside queries,
// before line n (a -- name: line, or the end of the file).
func (p *parser) finish(n int) error {
	if err := p.checkOutside(); err != nil {
		return err
	}
	q := p.q
	if q == nil {
		return nil
	}
	if !p.ended {
		q.SQL = trimTrailingComments(strings.Join(p.body, "\n"))
	}
	if q.SQL == "" {
		return p.errorf(q.Line, "query %s has no SQL; write its statement after the -- name: line", q.Name)
	}
	if err := p.rewriteParams(q); err != nil {
		return err
	}
	if e := q.Expect; e != nil {
		if e.Value != nil && !q.ReadsRows() {
			return p.errorf(p.expectLine, "query %s: expect value= needs a query that returns rows (:one or :many), not %s", q.Name, cmdOrInferred(q.Cmd))
		}
	}
	p.queries = append(p.queries, *q)
	p.q, p.argLines, p.argSets, p.body, p.bodyLine, p.ended, p.expectLine = nil, nil, nil, nil, 0, false, 0
	return nil
}

func cmdOrInferred(c Cmd) string {
	if c == CmdNone {
		return "a statement that returns none"
	}
	return string(c)
}

// checkOutside drops the text outside queries. As in sqlc, where one file often
// holds the schema and the queries, a statement without a name line is schema and
// is skipped.
func (p *parser) checkOutside() error {
	p.outside, p.outsideLine = nil, 0
	return nil
}

// checkParams checks q's placeholders against its argument sets, on every family q
// runs on.
func (p *parser) checkParams(q *Query) error {
	families := []engine.Family{engine.Postgres, engine.MySQL}
	if q.Family != "" {
		families = []engine.Family{q.Family}
	}
	params := -1
	for _, f := range families {
		toks, lerr := lex(q.SQL, f)
		if lerr != nil {
			line := p.bodyLine + strings.Count(q.SQL[:min(lerr.Pos, len(q.SQL))], "\n")
			hint := ""
			if _, other := lex(q.SQL, familyOrPostgres(q.Family)); other == nil {
				hint = fmt.Sprintf(" on %s; fix the quoting or restrict the query with -- engine:", f)
			}
			return p.errorf(line, "query %s: %s%s", q.Name, lerr.Msg, hint)
		}
		used := map[int]bool{}
		m := 0
		for _, t := range toks {
			if t.Kind == tokParam {
				if t.Param == 0 {
					return p.errorf(q.Line, "query %s: placeholder $0; placeholders start at $1", q.Name)
				}
				used[t.Param] = true
				m = max(m, t.Param)
			}
		}
		for i := 1; i <= m; i++ {
			if !used[i] {
				return p.errorf(q.Line, "query %s: uses $%d but not $%d; number placeholders $1…$N without gaps", q.Name, m, i)
			}
		}
		if params >= 0 && m != params {
			return p.errorf(q.Line, "query %s: placeholders differ between families ($%d vs $%d); restrict the query with -- engine:", q.Name, params, m)
		}
		params = m
	}
	q.Params = params
	if len(p.argSets) == 0 {
		q.NoArgs = q.Params > 0
		return nil
	}
	for i, set := range p.argSets {
		if len(set) != q.Params {
			return p.errorf(p.argLines[i], "query %s: args gives %d value(s) but the query uses %s; give exactly %d", q.Name, len(set), paramRange(q.Params), q.Params)
		}
	}
	return nil
}

func paramRange(n int) string {
	switch n {
	case 0:
		return "no placeholders"
	case 1:
		return "$1"
	}
	return fmt.Sprintf("$1…$%d", n)
}

// trimTrailingComments drops blank and comment-only lines at the end of a statement
// that ended at the next -- name: (or the end of the file) rather than at ";".
func trimTrailingComments(body string) string {
	lines := strings.Split(body, "\n")
	for len(lines) > 0 {
		t := strings.TrimSpace(lines[len(lines)-1])
		if t != "" && !strings.HasPrefix(t, "--") {
			break
		}
		lines = lines[:len(lines)-1]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// parseArgs parses the comma-separated SQL literals of an args line.
func parseArgs(s string) ([]Arg, error) {
	set := []Arg{}
	s = strings.TrimSpace(s)
	if s == "" {
		return set, nil
	}
	for i := 1; ; i++ {
		a, rest, err := parseLiteral(s)
		if err != nil {
			return nil, fmt.Errorf("value %d: %v", i, err)
		}
		set = append(set, a)
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return set, nil
		}
		if rest[0] != ',' {
			return nil, fmt.Errorf("value %d: unexpected %q after %s; separate values with commas", i, clip(rest), a)
		}
		s = strings.TrimSpace(rest[1:])
	}
}

var (
	intRE     = regexp.MustCompile(`^[+-]?[0-9]+$`)
	decimalRE = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
)

// parseLiteral parses one SQL literal at the start of s and returns the rest.
func parseLiteral(s string) (Arg, string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Arg{}, "", fmt.Errorf("missing value")
	}
	if s[0] == '\'' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] != '\'' {
				b.WriteByte(s[i])
				continue
			}
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return Arg{Kind: ArgString, Text: b.String()}, s[i+1:], nil
		}
		return Arg{}, "", fmt.Errorf("unterminated string %s; close it with ' (write '' for a quote inside)", clip(s))
	}
	end := strings.IndexByte(s, ',')
	if end < 0 {
		end = len(s)
	}
	word, rest := strings.TrimSpace(s[:end]), s[end:]
	if word == "" {
		return Arg{}, "", fmt.Errorf("missing value")
	}
	switch strings.ToUpper(word) {
	case "NULL":
		return Arg{Kind: ArgNull}, rest, nil
	case "TRUE", "FALSE":
		return Arg{Kind: ArgBool, Text: strings.ToLower(word)}, rest, nil
	}
	// A bare {{n}} is a number: check the shape with a stand-in value.
	probe := strings.ReplaceAll(word, "{{n}}", "1")
	switch {
	case intRE.MatchString(probe):
		return Arg{Kind: ArgInt, Text: word}, rest, nil
	case decimalRE.MatchString(probe):
		return Arg{Kind: ArgDecimal, Text: word}, rest, nil
	}
	return Arg{}, "", fmt.Errorf("%q is not a SQL literal (want a number, 'string', NULL, true or false)", word)
}

// parseExpect adds the comma-separated checks of an expect line to e.
func parseExpect(s string, e *Expect) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return fmt.Errorf("empty; want rows=N, rows>=N, rows<=N, value=LITERAL or error=CLASS")
	}
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
			i++
		}
		key := strings.ToLower(s[:i])
		rest := strings.TrimLeft(s[i:], " ")
		op := ""
		for _, o := range []string{">=", "<=", "="} {
			if strings.HasPrefix(rest, o) {
				op = o
				break
			}
		}
		if key == "" || op == "" {
			return fmt.Errorf("%q: want rows=N, rows>=N, rows<=N, value=LITERAL or error=CLASS", clip(s))
		}
		rest = strings.TrimSpace(rest[len(op):])
		switch key {
		case "rows":
			end := 0
			for end < len(rest) && sqltext.IsDigit(rest[end]) {
				end++
			}
			v, err := strconv.ParseInt(rest[:end], 10, 64)
			if err != nil {
				bad, _, _ := strings.Cut(rest, ",")
				return fmt.Errorf("rows%s%s: want a non-negative whole number", op, strings.TrimSpace(bad))
			}
			if e.Rows.Op != "" {
				return fmt.Errorf("a second rows check (rows%s%d is already expected)", e.Rows.Op, e.Rows.N)
			}
			e.Rows = RowCount{Op: op, N: v}
			rest = rest[end:]
		case "value":
			if op != "=" {
				return fmt.Errorf("value%s: values are compared with = only", op)
			}
			a, r, err := parseLiteral(rest)
			if err != nil {
				return fmt.Errorf("value=: %v", err)
			}
			if e.Value != nil {
				return fmt.Errorf("a second value check (value=%s is already expected)", e.Value)
			}
			e.Value, rest = &a, r
		case "error":
			if op != "=" {
				return fmt.Errorf("error%s: want error=CLASS", op)
			}
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			c, err := engine.ParseClass(strings.TrimSpace(rest[:end]))
			if err != nil {
				return err
			}
			e.Error, rest = c, rest[end:]
		default:
			return fmt.Errorf("unknown check %q; want rows, value or error", key)
		}
		if e.Error != "" && (e.Rows.Op != "" || e.Value != nil) {
			return fmt.Errorf("error= cannot be combined with rows= or value= (a failing query returns no rows)")
		}
		rest = strings.TrimSpace(rest)
		if rest != "" {
			if rest[0] != ',' {
				return fmt.Errorf("unexpected %q; separate checks with commas", clip(rest))
			}
			rest = strings.TrimSpace(rest[1:])
			if rest == "" {
				return fmt.Errorf("trailing comma")
			}
		}
		s = rest
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 30 {
		return s[:27] + "..."
	}
	return s
}

// rewriteParams turns q's sqlc parameter forms into $1…$N (see sqlc.go), checks
// its placeholders against its argument sets, renders its sqlc.slice lists with
// as many placeholders as the sets give values, and sets q.Args.
func (p *parser) rewriteParams(q *Query) error {
	f := familyOrPostgres(q.Family)
	qmarks := q.Family == engine.MySQL
	if q.Family == "" {
		qmarks = true
		if toks, lerr := lex(q.SQL, f); lerr == nil {
			for _, t := range toks {
				if t.Kind == tokParam {
					qmarks = false // ? next to $N is postgres's jsonb operator
					break
				}
			}
		}
	}
	rw, lerr := rewriteParams(q.SQL, f, qmarks)
	if lerr != nil {
		line := p.bodyLine + strings.Count(q.SQL[:min(lerr.Pos, len(q.SQL))], "\n")
		return p.errorf(line, "query %s: %s", q.Name, lerr.Msg)
	}
	q.SQL = rw.sql
	if err := p.checkParams(q); err != nil {
		return err
	}
	counts := map[int]int{}
	for i, set := range p.argSets {
		for k, v := range set {
			name, slice := rw.slices[k+1]
			if v.list && !slice {
				return p.errorf(p.argLines[i], "query %s: args: value %d is a list, but $%d is not a sqlc.slice parameter; give one value", q.Name, k+1, k+1)
			}
			if !slice {
				continue
			}
			c := len(v.vals)
			if prev, ok := counts[k+1]; ok && prev != c {
				return p.errorf(p.argLines[i], "query %s: args: sqlc.slice(%s) gets %d value(s) here and %d on line %d; the IN list is rendered once, so give the same number in every set", q.Name, name, c, prev, p.argLines[0])
			}
			counts[k+1] = c
		}
	}
	for k := range rw.slices {
		if _, ok := counts[k]; !ok {
			counts[k] = 1 // generated arguments: a list of one
		}
	}
	q.SQL, q.Params = expandSlices(q.SQL, f, q.Params, counts)
	for _, set := range p.argSets {
		flat := []Arg{}
		for _, v := range set {
			flat = append(flat, v.vals...)
		}
		q.Args = append(q.Args, flat)
	}
	return nil
}

// argValue is one value of an args line: a literal, or a parenthesized list of
// literals for a sqlc.slice parameter.
type argValue struct {
	vals []Arg
	list bool
}

// parseArgValues parses the comma-separated values of an args line: SQL literals
// and, for sqlc.slice parameters, lists "(1, 2, 3)".
func parseArgValues(s string) ([]argValue, error) {
	set := []argValue{}
	s = strings.TrimSpace(s)
	if s == "" {
		return set, nil
	}
	for i := 1; ; i++ {
		var v argValue
		var rest string
		if strings.HasPrefix(s, "(") {
			v.list = true
			body, r, err := cutList(s)
			if err != nil {
				return nil, fmt.Errorf("value %d: %v", i, err)
			}
			if strings.TrimSpace(body) != "" {
				vals, err := parseArgs(body)
				if err != nil {
					return nil, fmt.Errorf("value %d: list: %v", i, err)
				}
				v.vals = vals
			}
			rest = r
		} else {
			a, r, err := parseLiteral(s)
			if err != nil {
				return nil, fmt.Errorf("value %d: %v", i, err)
			}
			v.vals, rest = []Arg{a}, r
		}
		set = append(set, v)
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return set, nil
		}
		if rest[0] != ',' {
			what := "the list"
			if !v.list {
				what = v.vals[0].String()
			}
			return nil, fmt.Errorf("value %d: unexpected %q after %s; separate values with commas", i, clip(rest), what)
		}
		s = strings.TrimSpace(rest[1:])
	}
}

// cutList splits "(a, 'b)', c) rest" into the list's body and the rest, skipping
// parentheses inside strings.
func cutList(s string) (body, rest string, err error) {
	inString := false
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			inString = !inString // '' inside a string toggles twice
		case s[i] == ')' && !inString:
			return s[1:i], s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("unterminated list %s; close it with )", clip(s))
}
