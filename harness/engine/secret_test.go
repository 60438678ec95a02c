package engine

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestSecretsRedact(t *testing.T) {
	short := SecretsOf([]string{"postgres://app:pw@127.0.0.1:5432/straddle_ab"})
	long := SecretsOf([]string{"mysql://root:0123456789abcdef0123@127.0.0.1:3306/x"})
	special := SecretsOf([]string{"postgres://app:p%40ss%2Fw%3Ard@db:5432/x"})
	tests := []struct {
		name   string
		s      Secrets
		in     string
		want   string
		reason string
	}{
		{"env var", short, "PGPASSWORD=pw\n", "PGPASSWORD=xxxxx\n", "the variable a child printed"},
		{"url", short, "DATABASE_URL=postgres://app:pw@127.0.0.1:5432/straddle_ab", "DATABASE_URL=xxxxx", "the whole URL, not only its password"},
		{"other url", short, "postgres://app:pw@otherhost/db", "postgres://app:xxxxx@otherhost/db", "the password inside a URL straddle did not hand out"},
		{"inside words", short, "dial tcp: pwd is /tmp, database=postgres", "dial tcp: pwd is /tmp, database=postgres", "a short password inside words is left alone: messages stay readable"},
		{"repeated", short, "pw pw,pwpw pw", "xxxxx xxxxx,pwpw xxxxx", "every whole occurrence, none inside a word"},
		{"long", long, "MYSQL_PWD=0123456789abcdef0123 x0123456789abcdef0123", "MYSQL_PWD=xxxxx x0123456789abcdef0123", "long passwords are whole values too"},
		{"special raw", special, "PGPASSWORD=p@ss/w:rd", "PGPASSWORD=xxxxx", "the unescaped password, as PGPASSWORD holds it"},
		{"special escaped", special, "url=postgres://app:p%40ss%2Fw%3Ard@db:5432/x", "url=xxxxx", "the URL as given"},
		{"none", Secrets{}, "pw", "pw", "the zero value redacts nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q: %s", tt.in, got, tt.want, tt.reason)
			}
		})
	}
}

func TestSecretsWrapKeepsChain(t *testing.T) {
	s := SecretsOf([]string{"postgres://app:pw@h/db"})
	err := s.Wrap(fmt.Errorf("connect app:pw@h: %w", io.ErrUnexpectedEOF))
	if got, want := err.Error(), "connect app:xxxxx@h: unexpected EOF"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("the wrapper lost the chain: errors.Is fails")
	}
}
