package sqltext_test

import (
	"strings"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/sqltext"
)

// kinds renders tokens as kind:text, one per token.
func kinds(toks []sqltext.Token) string {
	names := map[sqltext.Kind]string{sqltext.Word: "w", sqltext.Quoted: "q", sqltext.String: "s", sqltext.Number: "n", sqltext.Param: "p", sqltext.Punct: "."}
	var b []string
	for _, t := range toks {
		b = append(b, names[t.Kind]+":"+t.Text)
	}
	return strings.Join(b, " ")
}

func TestLex(t *testing.T) {
	for _, tc := range []struct {
		f         engine.Family
		src, want string
		err       string
	}{
		{engine.Postgres, "SELECT a FROM t WHERE id = $1", "w:SELECT w:a w:FROM w:t w:WHERE w:id .:= p:$1", ""},
		{engine.Postgres, "SELECT '$1', \"$2\", $$ $3 $$, $x$ $4 $x$ -- $5\n/* $6 /* $7 */ */ $8", "w:SELECT s:'$1' .:, q:\"$2\" .:, s:$$ $3 $$ .:, s:$x$ $4 $x$ p:$8", ""},
		{engine.MySQL, "SELECT '\\'$1', \"$2\" # $3\n, `$4` /* /* */ $5", "w:SELECT s:'\\'$1' .:, s:\"$2\" .:, q:`$4` p:$5", ""},
		{engine.Postgres, "SELECT E'\\'$1', a$1, x::int, 1.5e3 <= .5", "w:SELECT s:E'\\'$1' .:, w:a$1 .:, w:x .::: w:int .:, n:1.5e3 .:<= n:.5", ""},
		{engine.Postgres, "SELECT data #>> '{a}'", "w:SELECT w:data .:# .:> .:> s:'{a}'", ""},
		{engine.Postgres, "SELECT 'open", "w:SELECT", "unterminated string literal (missing closing ')"},
		{engine.Postgres, "SELECT /* /* */", "w:SELECT", "unterminated /* comment"},
		{engine.Postgres, "SELECT $a$ x", "w:SELECT", "unterminated dollar-quoted string $a$"},
		{engine.MySQL, "SELECT `x", "w:SELECT", "unterminated quoted identifier (missing closing `)"},
	} {
		toks, err := sqltext.Lex(tc.src, sqltext.For(tc.f))
		if got := kinds(toks); got != tc.want {
			t.Errorf("%s %q:\n got %s\nwant %s", tc.f, tc.src, got, tc.want)
		}
		if msg := ""; err != nil {
			msg = err.Msg
			if msg != tc.err {
				t.Errorf("%s %q: error %q, want %q", tc.f, tc.src, msg, tc.err)
			}
		} else if tc.err != "" {
			t.Errorf("%s %q: no error, want %q", tc.f, tc.src, tc.err)
		}
	}
}

func TestHashComment(t *testing.T) {
	for _, tc := range []struct {
		r    sqltext.Rules
		src  string
		i    int
		want bool
	}{
		{sqltext.For(engine.MySQL), "a # b", 2, true},
		{sqltext.For(engine.Postgres), "# b", 0, false},
		{sqltext.Both, "  # a comment", 2, true},
		{sqltext.Both, "x # not at line start", 2, false},
		{sqltext.Both, "#>> '{a}'", 0, false}, // an operator starting a continuation line
	} {
		if got := tc.r.HashComment(tc.src, tc.i); got != tc.want {
			t.Errorf("HashComment(%q, %d) = %v, want %v", tc.src, tc.i, got, tc.want)
		}
	}
}

func TestBlockCommentEnd(t *testing.T) {
	for _, tc := range []struct {
		r    sqltext.Rules
		src  string
		want int
	}{
		{sqltext.For(engine.Postgres), "/* /* */ */x", 11},
		{sqltext.For(engine.MySQL), "/* /* */ */x", 8},
		// Where comments do not nest, the first */ ends one, even one sharing its
		// '*' with a "/*" inside: "/*/*/" is a whole comment.
		{sqltext.For(engine.MySQL), "/*/*/x", 5},
		{sqltext.For(engine.Postgres), "/*/*/x", 0},
	} {
		got, ok := tc.r.BlockCommentEnd(tc.src, 0)
		if got != tc.want || ok != (tc.want > 0) {
			t.Errorf("BlockCommentEnd(%q) = %d %v, want %d", tc.src, got, ok, tc.want)
		}
	}
}

// FuzzLex: the lexer never panics, and its tokens are in order, inside the text
// and hold what they say they hold.
func FuzzLex(f *testing.F) {
	for _, s := range []string{"SELECT $1", "'a''b' \"c\" `d` $$e$$ $t$f$t$ /* g */ -- h\n# i\n", "E'\\'' 1.5e+3 <> !=", "$", "/*/", "'\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, r := range []sqltext.Rules{sqltext.For(engine.Postgres), sqltext.For(engine.MySQL), sqltext.Both, sqltext.Standard} {
			toks, err := sqltext.Lex(src, r)
			last := 0
			for _, tok := range toks {
				if tok.Pos < last || tok.End <= tok.Pos || tok.End > len(src) || src[tok.Pos:tok.End] != tok.Text {
					t.Fatalf("%q: bad token %+v after offset %d", src, tok, last)
				}
				last = tok.End
			}
			if err != nil && (err.Pos < last || err.Pos >= len(src)) {
				t.Fatalf("%q: error at %d after token end %d", src, err.Pos, last)
			}
		}
	})
}
