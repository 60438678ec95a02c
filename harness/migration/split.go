package migration

import (
	"sort"
	"strings"
	"unicode"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/input"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/sqltext"
)

// Statement is one SQL statement of a migration, ready to send to a server on its
// own: leading comments and the terminating delimiter (";" or the one set by
// DELIMITER) are removed, inner comments are kept.
type Statement struct {
	SQL  string
	File string
	Line int // 1-based line of File where the statement starts
}

// syntax is the lexical rules of a family that decide where a statement ends
// (sqltext, straddle's one SQL lexer). sqltext.Both accepts what both families
// write, which is what a migration directory shared by PostgreSQL and MySQL needs.
type syntax = sqltext.Rules

func syntaxOf(f engine.Family) syntax { return sqltext.For(f) }

// Split splits the SQL text src of file into statements, with rules that suit both
// families (see [SplitFor]).
func Split(file, src string) ([]Statement, error) {
	return SplitFor("", file, src)
}

// SplitFor splits the SQL text src of file into statements using the lexical rules
// of family ("" for rules that suit both families: backslash escapes in '...', '#'
// comments only at the start of a line, dollar quotes, non-nesting block comments).
//
// A statement ends at ';' outside quotes, comments, dollar-quoted bodies and
// parentheses; after a MySQL "DELIMITER x" line it ends at x instead. In CREATE
// TRIGGER/PROCEDURE/FUNCTION/EVENT statements (and MariaDB's BEGIN NOT ATOMIC) a ';'
// inside BEGIN … END or CASE … END does not end the statement, so trigger bodies
// need no DELIMITER. Text made only of comments is not a statement. A construct
// left open at the end of src (quote, dollar quote, block comment, parenthesis,
// BEGIN block) is an *plan.InputError at the line where it started.
//
// Beyond finding statement ends it does not judge the SQL: only the server can.
func SplitFor(family engine.Family, file, src string) ([]Statement, error) {
	stmts, _, err := split(syntaxOf(family), file, strings.TrimPrefix(src, "\uFEFF"), 1)
	return stmts, err
}

// lexer splits one piece of SQL text. lines locates byte offsets: it holds the
// offset of every '\n' of src.
type lexer struct {
	syn   syntax
	file  string
	src   string
	base  int // line number of src[0]
	lines []int
	delim string // ";" or the one a DELIMITER line set
}

func (l *lexer) lineAt(off int) int {
	return l.base + sort.SearchInts(l.lines, off)
}

func (l *lexer) errorf(off int, format string, args ...any) error {
	return plan.Errorf(l.file, l.lineAt(off), format, args...)
}

// stmt is the state of the statement being read.
type stmt struct {
	start   int // offset of its first character that is not blank or comment; -1 before it
	words   int // words read so far
	first   string
	kind    int // routine detection, see word
	parens  int
	parenAt int // offset of the outermost open '('
	blocks  int // open BEGIN/CASE blocks inside a routine body
	blockAt int // offset of the outermost open block
	noTx    bool
}

const (
	kindUndecided = iota
	kindRoutine
	kindOther
)

// routineKinds are the objects whose body may hold ';' inside BEGIN … END;
// otherKinds settle that a CREATE/ALTER statement is not one of them, so a table
// named "event" with a column named "begin" does not open a block.
var (
	routineKinds = map[string]bool{"TRIGGER": true, "PROCEDURE": true, "FUNCTION": true, "EVENT": true}
	otherKinds   = map[string]bool{
		"TABLE": true, "VIEW": true, "INDEX": true, "SEQUENCE": true, "TYPE": true, "SCHEMA": true,
		"DATABASE": true, "DOMAIN": true, "EXTENSION": true, "ROLE": true, "USER": true,
		"POLICY": true, "RULE": true, "SERVER": true, "TABLESPACE": true, "MATERIALIZED": true,
		"PUBLICATION": true, "SUBSCRIPTION": true, "STATISTICS": true, "COLLATION": true,
		"CAST": true, "OPERATOR": true, "UNIQUE": true, "SPATIAL": true, "FULLTEXT": true,
	}
	// endSuffixes close compound statements that were never counted as blocks:
	// only BEGIN and CASE open one, so END IF / END LOOP … must not close one.
	endSuffixes = map[string]bool{"IF": true, "LOOP": true, "WHILE": true, "REPEAT": true, "FOR": true}
)

// noTxStatements start statements PostgreSQL refuses inside a transaction block
// (besides anything CONCURRENTLY): a step holding one must not be wrapped in one.
var noTxStatements = [][2]string{
	{"VACUUM", ""},
	{"CREATE", "DATABASE"},
	{"DROP", "DATABASE"},
	{"CREATE", "TABLESPACE"},
	{"DROP", "TABLESPACE"},
	{"ALTER", "SYSTEM"},
}

// split returns the statements of src, whose first line is line base of file, and
// whether any of them cannot run inside a transaction.
func split(syn syntax, file, src string, base int) (out []Statement, noTx bool, err error) {
	l := &lexer{syn: syn, file: file, src: src, base: base, delim: ";"}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			l.lines = append(l.lines, i)
		}
	}
	if off, msg := input.Invalid(src); off >= 0 {
		return nil, false, l.errorf(off, "%s", msg)
	}
	st := stmt{start: -1}
	emit := func(end int) {
		// A statement of Unicode spaces only (U+00A0, U+2008 …: not SQL
		// whitespace, so they start a statement) trims to nothing: no statement,
		// where it would have been an empty query for the server.
		if st.start >= 0 {
			if text := strings.TrimRightFunc(src[st.start:end], unicode.IsSpace); text != "" {
				out = append(out, Statement{SQL: text, File: file, Line: l.lineAt(st.start)})
				noTx = noTx || st.noTx
			}
		}
		st = stmt{start: -1}
	}
	i := 0
	for i < len(src) {
		c := src[i]
		if l.delim != ";" && strings.HasPrefix(src[i:], l.delim) {
			emit(i)
			i += len(l.delim)
			continue
		}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '-' && strings.HasPrefix(src[i:], "--"), c == '#' && l.syn.HashComment(src, i):
			i = sqltext.LineEnd(src, i)
			continue
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			end, err := l.blockComment(i)
			if err != nil {
				return nil, false, err
			}
			// MySQL runs the text of /*! … */ and reads hints in /*+ … */: they are
			// statement text, not comments.
			if st.start < 0 && i+2 < len(src) && (src[i+2] == '!' || src[i+2] == '+') {
				st.start = i
			}
			i = end
			continue
		case c == ';' && l.delim == ";" && st.parens == 0 && st.blocks == 0:
			emit(i)
			i++
			continue
		}
		if st.start < 0 {
			st.start = i
			d, end, ok, err := l.delimiterCommand(i)
			if err != nil {
				return nil, false, err
			}
			if ok {
				l.delim = d
				st.start = -1
				i = end
				continue
			}
		}
		switch {
		case c == '\'':
			end, err := l.quoted(i, syn.Backslash || sqltext.EscapeString(src, i), "string literal")
			if err != nil {
				return nil, false, err
			}
			i = end
		case c == '"':
			what := "quoted identifier"
			if syn.DoubleIsString {
				what = "double-quoted string"
			}
			end, err := l.quoted(i, syn.DoubleIsString && syn.Backslash, what)
			if err != nil {
				return nil, false, err
			}
			i = end
		case c == '`':
			end, err := l.quoted(i, false, "quoted identifier")
			if err != nil {
				return nil, false, err
			}
			i = end
		case c == '$' && syn.Dollar && !(i > 0 && sqltext.IsIdentPart(src[i-1])):
			end, ok, err := l.dollarQuoted(i)
			if err != nil {
				return nil, false, err
			}
			if !ok {
				end = i + 1
			}
			i = end
		case c == '(' && l.delim == ";":
			if st.parens == 0 {
				st.parenAt = i
			}
			st.parens++
			i++
		case c == ')' && l.delim == ";":
			// An unmatched ')' is the server's to report.
			if st.parens > 0 {
				st.parens--
			}
			i++
		case sqltext.IsIdentStart(c):
			i = l.word(&st, i, l.identEnd(i))
		case sqltext.IsDigit(c):
			i = l.identEnd(i)
		default:
			i++
		}
	}
	switch {
	case st.parens > 0:
		return nil, false, l.errorf(st.parenAt, "unclosed parenthesis: this '(' has no matching ')'")
	case st.blocks > 0:
		return nil, false, l.errorf(st.blockAt, "unterminated block: this BEGIN or CASE has no matching END")
	}
	emit(len(src))
	return out, noTx, nil
}

// word handles the word src[start:end] of statement st and returns where scanning
// resumes. It notes statements that cannot run in a transaction and, while ';' is
// the delimiter, tracks BEGIN/CASE … END blocks inside routine bodies.
func (l *lexer) word(st *stmt, start, end int) int {
	w := strings.ToUpper(l.src[start:end])
	st.words++
	switch st.words {
	case 1:
		st.first = w
		for _, p := range noTxStatements {
			st.noTx = st.noTx || p[0] == w && p[1] == ""
		}
	case 2:
		for _, p := range noTxStatements {
			st.noTx = st.noTx || p[0] == st.first && p[1] == w
		}
	}
	if w == "CONCURRENTLY" {
		st.noTx = true
	}
	if l.delim != ";" {
		return end
	}
	switch {
	case st.words == 1:
		if w != "CREATE" && w != "ALTER" && w != "BEGIN" {
			st.kind = kindOther
		}
		return end
	case st.kind == kindUndecided && st.first == "BEGIN":
		// MariaDB's anonymous block: BEGIN NOT ATOMIC … END. A plain BEGIN starts
		// a transaction and holds no body.
		st.kind = kindOther
		if w == "NOT" {
			st.kind = kindRoutine
			st.blocks, st.blockAt = 1, st.start
		}
		return end
	case st.kind == kindUndecided:
		switch {
		case routineKinds[w]:
			st.kind = kindRoutine
		case otherKinds[w] || st.words > 8:
			st.kind = kindOther
		}
		return end
	case st.kind != kindRoutine:
		return end
	}
	switch w {
	case "BEGIN", "CASE":
		if st.blocks == 0 {
			st.blockAt = start
		}
		st.blocks++
	case "END":
		next, nextEnd := l.peekWord(end)
		if endSuffixes[next] {
			return nextEnd
		}
		if next == "CASE" {
			end = nextEnd
		}
		if st.blocks > 0 {
			st.blocks--
		}
	}
	return end
}

// identEnd returns the end of the word or number at i. A custom delimiter ends it
// too, as in "END$$" after DELIMITER $$.
func (l *lexer) identEnd(i int) int {
	for i < len(l.src) && sqltext.IsIdentPart(l.src[i]) && (l.delim == ";" || !strings.HasPrefix(l.src[i:], l.delim)) {
		i++
	}
	return i
}

// peekWord returns the word after blanks at i, upper-cased, and its end.
func (l *lexer) peekWord(i int) (string, int) {
	for i < len(l.src) && (l.src[i] == ' ' || l.src[i] == '\t' || l.src[i] == '\n' || l.src[i] == '\r') {
		i++
	}
	if i >= len(l.src) || !sqltext.IsIdentStart(l.src[i]) {
		return "", i
	}
	end := l.identEnd(i)
	return strings.ToUpper(l.src[i:end]), end
}

// delimiterCommand reads a MySQL client "DELIMITER x" line at i.
func (l *lexer) delimiterCommand(i int) (delim string, end int, ok bool, err error) {
	const cmd = "DELIMITER"
	src := l.src
	if len(src)-i <= len(cmd) || !strings.EqualFold(src[i:i+len(cmd)], cmd) ||
		(src[i+len(cmd)] != ' ' && src[i+len(cmd)] != '\t') {
		return "", 0, false, nil
	}
	end = sqltext.LineEnd(src, i)
	d := strings.TrimSpace(src[i+len(cmd) : end])
	if d == "" {
		return "", 0, false, l.errorf(i, "DELIMITER needs a delimiter, e.g. DELIMITER //")
	}
	return d, end, true, nil
}

// quoted returns the offset after the quoted text opened by the quote at i. A
// doubled quote stands for itself; with esc, so does a backslash-escaped character.
func (l *lexer) quoted(i int, esc bool, what string) (int, error) {
	end, ok := sqltext.QuotedEnd(l.src, i, esc)
	if !ok {
		return 0, l.errorf(i, "unterminated %s: missing closing %c", what, l.src[i])
	}
	return end, nil
}

// blockComment returns the offset after the /* … */ comment at i.
func (l *lexer) blockComment(i int) (int, error) {
	end, ok := l.syn.BlockCommentEnd(l.src, i)
	if !ok {
		return 0, l.errorf(i, "unterminated block comment: missing closing */")
	}
	return end, nil
}

// dollarQuoted returns the offset after the dollar-quoted text at i, or ok=false
// when the '$' there opens none (a parameter $1, a '$' in an operator).
func (l *lexer) dollarQuoted(i int) (end int, ok bool, err error) {
	tag := sqltext.DollarTag(l.src, i)
	if tag == "" {
		return 0, false, nil
	}
	end, ok = sqltext.DollarQuotedEnd(l.src, i, tag)
	if !ok {
		return 0, false, l.errorf(i, "unterminated dollar-quoted string: missing closing %s", tag)
	}
	return end, true, nil
}
