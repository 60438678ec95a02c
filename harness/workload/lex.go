package workload

import (
	"fmt"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
)

// tokKind is the kind of a lexical token of a query body.
type tokKind int

const (
	tokWord   tokKind = iota // keyword or bare identifier
	tokQuoted                // "quoted" or `quoted` identifier
	tokString                // 'string', E'string', $tag$string$tag$
	tokNumber                // 12, 1.5, .5e3
	tokParam                 // $N
	tokPunct                 // operator or punctuation: ( ) , ; = <> <= >= != :: …
)

// token is one token of a query body; pos and end are byte offsets into it.
type token struct {
	kind     tokKind
	text     string
	pos, end int
	param    int // N of a $N placeholder
}

// lexRules are the lexical differences between families that matter for finding
// placeholders: which quotes and comments hide a "$1" from the server.
type lexRules struct {
	backslashEscapes bool // '\'' is a quote inside a string (mysql)
	hashComments     bool // # starts a comment (mysql)
	nestedComments   bool // /* /* */ */ nests (postgres)
	dollarQuotes     bool // $tag$…$tag$ strings (postgres)
	doubleIsString   bool // "…" is a string, with backslash escapes (mysql without ANSI_QUOTES)
}

// rulesOf is per-family lexical data, chosen once per query.
var rulesOf = map[engine.Family]lexRules{
	engine.Postgres: {nestedComments: true, dollarQuotes: true},
	engine.MySQL:    {backslashEscapes: true, hashComments: true, doubleIsString: true},
}

// lexError is a lexical error at a byte offset of the lexed text.
type lexError struct {
	pos int
	msg string
}

func (e *lexError) Error() string { return e.msg }

// lex splits src into tokens, dropping whitespace and comments. It returns an error
// for a string, quoted identifier or block comment left open at the end of src.
func lex(src string, f engine.Family) ([]token, *lexError) {
	r := rulesOf[f]
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
			continue
		case c == '-' && strings.HasPrefix(src[i:], "--"), c == '#' && r.hashComments:
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			depth := 0
			for {
				switch {
				case i >= len(src):
					return toks, &lexError{start, "unterminated /* comment"}
				case strings.HasPrefix(src[i:], "/*") && (depth == 0 || r.nestedComments):
					depth++
					i += 2
				case strings.HasPrefix(src[i:], "*/"):
					depth--
					i += 2
				default:
					i++
				}
				if depth == 0 {
					break
				}
			}
			continue
		case c == '\'':
			end, err := skipQuoted(src, i, '\'', r.backslashEscapes)
			if err != nil {
				return toks, err
			}
			i = end
			toks = append(toks, token{kind: tokString, text: src[start:i], pos: start, end: i})
		case (c == 'E' || c == 'e') && r.dollarQuotes && i+1 < len(src) && src[i+1] == '\'' && !identBefore(src, i):
			end, err := skipQuoted(src, i+1, '\'', true)
			if err != nil {
				return toks, err
			}
			i = end
			toks = append(toks, token{kind: tokString, text: src[start:i], pos: start, end: i})
		case c == '"':
			end, err := skipQuoted(src, i, '"', r.doubleIsString && r.backslashEscapes)
			if err != nil {
				return toks, err
			}
			i = end
			k := tokQuoted
			if r.doubleIsString {
				k = tokString
			}
			toks = append(toks, token{kind: k, text: src[start:i], pos: start, end: i})
		case c == '`':
			end, err := skipQuoted(src, i, '`', false)
			if err != nil {
				return toks, err
			}
			i = end
			toks = append(toks, token{kind: tokQuoted, text: src[start:i], pos: start, end: i})
		case c == '$' && i+1 < len(src) && isDigit(src[i+1]) && !identBefore(src, i):
			i++
			n := 0
			for i < len(src) && isDigit(src[i]) {
				if n < 1<<20 {
					n = n*10 + int(src[i]-'0')
				}
				i++
			}
			toks = append(toks, token{kind: tokParam, text: src[start:i], pos: start, end: i, param: n})
		case c == '$' && r.dollarQuotes && !identBefore(src, i):
			tag, ok := dollarTag(src[i:])
			if !ok {
				i++
				toks = append(toks, token{kind: tokPunct, text: "$", pos: start, end: i})
				continue
			}
			j := strings.Index(src[i+len(tag):], tag)
			if j < 0 {
				return toks, &lexError{start, "unterminated dollar-quoted string " + tag}
			}
			i += len(tag) + j + len(tag)
			toks = append(toks, token{kind: tokString, text: src[start:i], pos: start, end: i})
		case isIdentStart(c):
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			toks = append(toks, token{kind: tokWord, text: src[start:i], pos: start, end: i})
		case isDigit(c) || c == '.' && i+1 < len(src) && isDigit(src[i+1]):
			for i < len(src) && (isDigit(src[i]) || src[i] == '.') {
				i++
			}
			if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
				j := i + 1
				if j < len(src) && (src[j] == '+' || src[j] == '-') {
					j++
				}
				if j < len(src) && isDigit(src[j]) {
					i = j
					for i < len(src) && isDigit(src[i]) {
						i++
					}
				}
			}
			toks = append(toks, token{kind: tokNumber, text: src[start:i], pos: start, end: i})
		default:
			i++
			// Two-character operators the placeholder heuristics care about.
			if i < len(src) {
				switch src[start : i+1] {
				case "<=", ">=", "<>", "!=", "::", ":=":
					i++
				}
			}
			toks = append(toks, token{kind: tokPunct, text: src[start:i], pos: start, end: i})
		}
	}
	return toks, nil
}

// skipQuoted returns the offset just past the quoted text that starts at src[i] ==
// q. A doubled quote is an escaped quote; so is a backslashed one when backslash is
// set.
func skipQuoted(src string, i int, q byte, backslash bool) (int, *lexError) {
	start := i
	i++
	for i < len(src) {
		switch {
		case backslash && src[i] == '\\':
			i += 2
		case src[i] == q && i+1 < len(src) && src[i+1] == q:
			i += 2
		case src[i] == q:
			return i + 1, nil
		default:
			i++
		}
	}
	what := "string literal"
	if q != '\'' {
		what = "quoted identifier"
	}
	return 0, &lexError{start, fmt.Sprintf("unterminated %s (missing closing %c)", what, q)}
}

// dollarTag returns the opening "$tag$" of a dollar-quoted string at the start of s.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		switch {
		case s[j] == '$':
			return s[:j+1], true
		case isIdentPart(s[j]) && !(j == 1 && isDigit(s[j])):
		default:
			return "", false
		}
	}
	return "", false
}

// identBefore reports whether src[i] continues an identifier ("a$1" is one name on
// postgres, and the quote in "nameE'x'" does not start an escape string).
func identBefore(src string, i int) bool {
	return i > 0 && isIdentPart(src[i-1])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }
