package sqltext

import (
	"fmt"
	"strings"
)

// Kind is the kind of a token.
type Kind int

const (
	Word   Kind = iota // keyword or bare identifier
	Quoted             // "quoted" or `quoted` identifier
	String             // 'string', E'string', $tag$string$tag$ ("string" on MySQL)
	Number             // 12, 1.5, .5e3
	Param              // $N
	Punct              // operator or punctuation: ( ) , ; = <> <= >= != :: …
)

// Token is one token of SQL text; Pos and End are byte offsets into it.
type Token struct {
	Kind     Kind
	Text     string
	Pos, End int
	Param    int // N of a $N placeholder
}

// Error is a construct left open at the end of the text, at byte offset Pos.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// Lex splits src into tokens with rules r, dropping whitespace and comments. It
// returns the tokens read so far and an error for a string, quoted identifier or
// block comment left open at the end of src.
func Lex(src string, r Rules) ([]Token, *Error) {
	var toks []Token
	add := func(k Kind, start, end int) {
		toks = append(toks, Token{Kind: k, Text: src[start:end], Pos: start, End: end})
	}
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && strings.HasPrefix(src[i:], "--"), c == '#' && r.HashComment(src, i):
			i = LineEnd(src, i)
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			end, ok := r.BlockCommentEnd(src, i)
			if !ok {
				return toks, &Error{start, "unterminated /* comment"}
			}
			i = end
		case c == '\'':
			end, ok := QuotedEnd(src, i, r.Backslash)
			if !ok {
				return toks, unterminated(start, c)
			}
			i = end
			add(String, start, i)
		case (c == 'E' || c == 'e') && !r.Backslash && i+1 < len(src) && src[i+1] == '\'' && !(i > 0 && IsIdentPart(src[i-1])):
			end, ok := QuotedEnd(src, i+1, true)
			if !ok {
				return toks, unterminated(i+1, '\'')
			}
			i = end
			add(String, start, i)
		case c == '"':
			end, ok := QuotedEnd(src, i, r.DoubleIsString && r.Backslash)
			if !ok {
				return toks, unterminated(start, c)
			}
			i = end
			k := Quoted
			if r.DoubleIsString {
				k = String
			}
			add(k, start, i)
		case c == '`':
			end, ok := QuotedEnd(src, i, false)
			if !ok {
				return toks, unterminated(start, c)
			}
			i = end
			add(Quoted, start, i)
		case c == '$' && i+1 < len(src) && IsDigit(src[i+1]) && !(i > 0 && IsIdentPart(src[i-1])):
			i++
			n := 0
			for i < len(src) && IsDigit(src[i]) {
				if n < 1<<20 {
					n = n*10 + int(src[i]-'0')
				}
				i++
			}
			toks = append(toks, Token{Kind: Param, Text: src[start:i], Pos: start, End: i, Param: n})
		case c == '$' && r.Dollar && !(i > 0 && IsIdentPart(src[i-1])):
			tag := DollarTag(src, i)
			if tag == "" {
				i++
				add(Punct, start, i)
				continue
			}
			end, ok := DollarQuotedEnd(src, i, tag)
			if !ok {
				return toks, &Error{start, "unterminated dollar-quoted string " + tag}
			}
			i = end
			add(String, start, i)
		case IsIdentStart(c):
			for i < len(src) && IsIdentPart(src[i]) {
				i++
			}
			add(Word, start, i)
		case IsDigit(c) || c == '.' && i+1 < len(src) && IsDigit(src[i+1]):
			i = numberEnd(src, i)
			add(Number, start, i)
		default:
			i++
			// Two-character operators that placeholder heuristics care about.
			if i < len(src) {
				switch src[start : i+1] {
				case "<=", ">=", "<>", "!=", "::", ":=":
					i++
				}
			}
			add(Punct, start, i)
		}
	}
	return toks, nil
}

// numberEnd returns the end of the number at src[i]: digits and dots, then an
// exponent.
func numberEnd(src string, i int) int {
	for i < len(src) && (IsDigit(src[i]) || src[i] == '.') {
		i++
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && IsDigit(src[j]) {
			i = j
			for i < len(src) && IsDigit(src[i]) {
				i++
			}
		}
	}
	return i
}

func unterminated(pos int, q byte) *Error {
	what := "string literal"
	if q != '\'' {
		what = "quoted identifier"
	}
	return &Error{pos, fmt.Sprintf("unterminated %s (missing closing %c)", what, q)}
}

// UnquoteIdent drops the quotes of a "quoted" or `quoted` identifier; any other text is returned as it is.
func UnquoteIdent(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '`') && s[len(s)-1] == s[0] {
		q := string(s[0])
		return strings.ReplaceAll(s[1:len(s)-1], q+q, q)
	}
	return s
}
