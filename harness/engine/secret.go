package engine

import (
	"net/url"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mask replaces a secret in text that leaves straddle.
const Mask = "xxxxx"

// Secrets are the exact values that must not leave straddle — passwords and the
// URLs that carry them, as handed to servers and child commands — whatever their
// length. The zero value redacts nothing. Safe for concurrent use (read-only).
type Secrets struct {
	values []string // longest first, so a URL is masked whole before its password
}

// SecretsOf returns the secrets of connection URLs: each URL as given, its
// password, and the password's URL-escaped forms (a password with '@' or '/' is
// escaped in DATABASE_URL and plain in PGPASSWORD). Extra values are added as
// they are.
func SecretsOf(urls []string, extra ...string) Secrets {
	var vals []string
	for _, raw := range urls {
		vals = append(vals, raw)
		u, err := url.Parse(raw)
		if err != nil || u.User == nil {
			continue
		}
		if pw, ok := u.User.Password(); ok {
			vals = append(vals, pw, url.QueryEscape(pw), url.PathEscape(pw), (&url.URL{User: url.UserPassword("", pw)}).User.String()[1:])
		}
	}
	return Secrets{}.With(append(vals, extra...)...)
}

// With returns s with more values.
func (s Secrets) With(values ...string) Secrets {
	seen := map[string]bool{}
	var out []string
	for _, v := range append(append([]string(nil), s.values...), values...) {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return Secrets{values: out}
}

// Values lists the secrets, longest first.
func (s Secrets) Values() []string { return append([]string(nil), s.values...) }

// Redact replaces every whole occurrence of a secret in text with Mask. A match
// counts when it is not part of a longer word: a secret that starts (ends) with a
// letter, digit or '_' must not have one right before (after) it. So a password
// "pw" is masked in "PGPASSWORD=pw" and "u:pw@host" and left alone in "pwd";
// the words of a message stay intact ("dial tcp", "database=postgres").
func (s Secrets) Redact(text string) string {
	if len(s.values) == 0 || text == "" {
		return text
	}
	for _, v := range s.values {
		if !strings.Contains(text, v) {
			continue
		}
		var b strings.Builder
		from := 0 // text[:from] is written
		for at := 0; ; {
			i := strings.Index(text[at:], v)
			if i < 0 {
				break
			}
			i += at
			end := i + len(v)
			if whole(text, i, end, v) {
				b.WriteString(text[from:i])
				b.WriteString(Mask)
				from = end
			}
			at = end
		}
		b.WriteString(text[from:])
		text = b.String()
	}
	return text
}

// whole reports whether v at text[i:end] is not part of a longer word.
func whole(text string, i, end int, v string) bool {
	first, _ := utf8.DecodeRuneInString(v)
	last, _ := utf8.DecodeLastRuneInString(v)
	if word(first) && i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(text[:i]); word(r) {
			return false
		}
	}
	if word(last) && end < len(text) {
		if r, _ := utf8.DecodeRuneInString(text[end:]); word(r) {
			return false
		}
	}
	return true
}

func word(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// Wrap returns err with its message redacted; errors.Is and errors.As still see
// the whole chain (nil for nil).
func (s Secrets) Wrap(err error) error {
	if err == nil || len(s.values) == 0 {
		return err
	}
	return &RedactedError{err: err, secrets: s}
}

// RedactedError is an error whose message has its secrets masked; Unwrap returns
// the original, so classifying by SQLSTATE or errors.Is keeps working.
type RedactedError struct {
	err     error
	secrets Secrets
}

func (e *RedactedError) Error() string { return e.secrets.Redact(e.err.Error()) }
func (e *RedactedError) Unwrap() error { return e.err }
