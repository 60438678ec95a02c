package sqltext

import "strings"

// Hash says where '#' starts a comment.
type Hash int

const (
	HashNever     Hash = iota // PostgreSQL: '#' is an operator
	HashLineStart             // only as the first non-blank character of a line
	HashAnywhere              // MySQL/MariaDB: '#' starts a comment anywhere
)

// Rules are the lexical differences between families that decide what hides a
// ';' or a "$1" from the server.
type Rules struct {
	// Backslash: a backslash escapes the next character inside '...' (MySQL).
	// Where it does not, an E'...' string still honours it (PostgreSQL).
	Backslash bool
	// DoubleIsString: "..." is a string with backslash escapes (MySQL without
	// ANSI_QUOTES), not a quoted identifier.
	DoubleIsString bool
	// Hash: where '#' starts a comment.
	Hash Hash
	// Dollar: $tag$ … $tag$ strings (PostgreSQL).
	Dollar bool
	// NestedComments: /* /* */ */ nests (PostgreSQL); otherwise a block comment
	// ends at the first */.
	NestedComments bool
}

// Both is the rules that suit what both families write, for SQL whose family is
// not known (a migration directory shared by PostgreSQL and MySQL): backslash
// escapes in '...', '#' comments only at the start of a line, dollar quotes,
// non-nesting block comments.
var Both = Rules{Backslash: true, Hash: HashLineStart, Dollar: true}

// Standard is standard SQL's rules: no backslash escapes, no '#' comments, no
// dollar quotes, block comments that do not nest.
var Standard = Rules{}

// rules are keyed by engine.Family's values (this package imports no driver
// contract, so that it stays free of I/O).
var rules = map[string]Rules{
	"postgres": {Dollar: true, NestedComments: true},
	"mysql":    {Backslash: true, DoubleIsString: true, Hash: HashAnywhere},
}

// For returns the rules of family f (an engine.Family: "postgres" or "mysql");
// Both for "" or an unknown family.
func For[F ~string](f F) Rules {
	if r, ok := rules[string(f)]; ok {
		return r
	}
	return Both
}

// HashComment reports whether the '#' at src[i] starts a comment.
func (r Rules) HashComment(src string, i int) bool {
	switch r.Hash {
	case HashAnywhere:
		return true
	case HashLineStart:
		// "# " at the start of a line: a PostgreSQL operator such as #>> that
		// starts a continuation line is not a comment.
		if n := i + 1; n < len(src) && !strings.ContainsRune(" \t\r\n#", rune(src[n])) {
			return false
		}
		for j := i - 1; j >= 0 && src[j] != '\n'; j-- {
			if src[j] != ' ' && src[j] != '\t' {
				return false
			}
		}
		return true
	}
	return false
}

// EscapeString reports whether the quote at src[i] opens a PostgreSQL E'...'
// string (the E not the end of a longer name). Only where '...' has no backslash
// escapes of its own does this matter.
func EscapeString(src string, i int) bool {
	return i > 0 && (src[i-1] == 'E' || src[i-1] == 'e') && !(i > 1 && IsIdentPart(src[i-2]))
}

// QuotedEnd returns the offset just past the quoted text opened by the quote
// src[i]; ok is false when it is left open. A doubled quote stands for itself; with
// backslash, so does a backslash-escaped character.
func QuotedEnd(src string, i int, backslash bool) (end int, ok bool) {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(src) && src[j+1] == q {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return 0, false
}

// BlockCommentEnd returns the offset just past the /* … */ comment at src[i];
// ok is false when it is left open.
func (r Rules) BlockCommentEnd(src string, i int) (end int, ok bool) {
	depth := 0
	for j := i; j < len(src)-1; j++ {
		switch {
		case src[j] == '/' && src[j+1] == '*' && (depth == 0 || r.NestedComments):
			depth++
			j++
		case src[j] == '*' && src[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1, true
			}
		}
	}
	return 0, false
}

// DollarTag returns the "$tag$" (or "$$") that opens a dollar-quoted string at
// src[i], or "" when the '$' there opens none (a parameter $1, a '$' in an
// operator or continuing a name).
func DollarTag(src string, i int) string {
	if i > 0 && IsIdentPart(src[i-1]) {
		return ""
	}
	j := i + 1
	if j < len(src) && src[j] != '$' {
		if !IsIdentStart(src[j]) {
			return ""
		}
		for j < len(src) && IsIdentPart(src[j]) && src[j] != '$' {
			j++
		}
	}
	if j >= len(src) || src[j] != '$' {
		return ""
	}
	return src[i : j+1]
}

// DollarQuotedEnd returns the offset just past the dollar-quoted string opened by
// tag at src[i]; ok is false when it is left open.
func DollarQuotedEnd(src string, i int, tag string) (end int, ok bool) {
	k := strings.Index(src[i+len(tag):], tag)
	if k < 0 {
		return 0, false
	}
	return i + len(tag) + k + len(tag), true
}

// LineEnd returns the offset of the '\n' that ends the line holding src[i], or
// len(src).
func LineEnd(src string, i int) int {
	if k := strings.IndexByte(src[i:], '\n'); k >= 0 {
		return i + k
	}
	return len(src)
}

// IsDigit reports whether c is an ASCII digit.
func IsDigit(c byte) bool { return '0' <= c && c <= '9' }

// IsIdentStart reports whether c can start a bare identifier (any byte of a
// multi-byte UTF-8 character can).
func IsIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

// IsIdentPart reports whether c can continue a bare identifier ("a$1" is one name
// on PostgreSQL).
func IsIdentPart(c byte) bool { return IsIdentStart(c) || IsDigit(c) || c == '$' }
