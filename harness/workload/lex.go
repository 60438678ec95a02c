package workload

import (
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/sqltext"
)

// token is one token of a query body (sqltext, straddle's one SQL lexer).
type token = sqltext.Token

const (
	tokWord   = sqltext.Word
	tokQuoted = sqltext.Quoted
	tokString = sqltext.String
	tokNumber = sqltext.Number
	tokParam  = sqltext.Param
	tokPunct  = sqltext.Punct
)

// lex splits a query body into tokens with the lexical rules of family f.
// A query of no family is lexed by standard SQL's rules (sqltext.Standard).
func lex(src string, f engine.Family) ([]token, *sqltext.Error) {
	if f == "" {
		return sqltext.Lex(src, sqltext.Standard)
	}
	return sqltext.Lex(src, sqltext.For(f))
}
