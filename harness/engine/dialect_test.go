package engine

import "testing"

// TestGone: the codes that end a run as an environment failure, never a finding.
func TestGone(t *testing.T) {
	tests := []struct {
		name   string
		family Family
		code   string
		want   bool
		reason string
	}{
		{"pg fast shutdown", Postgres, "57P01", true, "pg_ctl stop -m fast, docker stop, or the postmaster died: every backend gets admin_shutdown"},
		{"pg crash shutdown", Postgres, "57P02", true, "another backend crashed and the server restarts"},
		{"pg cannot connect now", Postgres, "57P03", true, "a new connection while the server is shutting down"},
		{"pg database dropped", Postgres, "57P04", true, "the scratch database was dropped under the run"},
		{"pg connection failure", Postgres, "08006", true, "class 08 is connection exception: matched by prefix"},
		{"pg connection exception", Postgres, "08000", true, "the class's own code"},
		{"pg too many connections", Postgres, "53300", true, "the server refuses more clients: nothing about the SQL"},
		{"pg undefined column", Postgres, "42703", false, "the finding old code hits after a rename"},
		{"pg query canceled", Postgres, "57014", false, "a statement timeout is a transient class of the SQL, not the server leaving"},
		{"pg lock timeout", Postgres, "55P03", false, "a lock timeout says the step is slow"},
		{"pg 08 elsewhere", Postgres, "22008", false, "08 in the middle of a code is not class 08"},
		{"mysql shutdown", MySQL, "1053", true, "server shutdown in progress"},
		{"mysql server gone", MySQL, "2006", true, "client library: MySQL server has gone away (a migration command's client)"},
		{"mysql server lost", MySQL, "2013", true, "client library: lost connection during query"},
		{"mariadb connection killed", MySQL, "1927", true, "KILL CONNECTION, or shutdown killing threads"},
		{"mysql too many connections", MySQL, "1040", true, "the server refuses more clients"},
		{"mysql undefined column", MySQL, "1054", false, "the finding old code hits after a rename"},
		{"mysql 08 prefix", MySQL, "0800", false, "class prefixes are SQLSTATE's; MySQL codes are numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Gone(tt.family, tt.code); got != tt.want {
				t.Errorf("Gone(%s, %s) = %v, want %v: %s", tt.family, tt.code, got, tt.want, tt.reason)
			}
		})
	}
}
