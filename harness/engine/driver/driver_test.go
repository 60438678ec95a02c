package driver_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/straddle-dev/straddle/harness/engine"
	_ "github.com/straddle-dev/straddle/harness/engine/driver"
)

// errDriver is a sentinel in the chain below the driver's error.
var errDriver = errors.New("below the driver error")

// A *engine.DBError keeps the chain of the error it was classified from, also
// behind a redacting wrapper: callers still reach the driver's typed error and
// whatever it wraps.
func TestDBErrorKeepsTheChain(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		code   string
		reason string
	}{
		{"postgres", fmt.Errorf("exec: %w", &pgconn.PgError{Code: "42703", Message: `column "name" does not exist`}), "42703", "SQLSTATE from *pgconn.PgError"},
		{"mysql", fmt.Errorf("exec: %w", errors.Join(&mysql.MySQLError{Number: 1054, Message: "Unknown column 'name'"}, errDriver)), "1054", "error number from *mysql.MySQLError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			de := engine.Classify(tc.err)
			if de == nil || de.Code != tc.code {
				t.Fatalf("Classify = %v, want code %s (%s)", de, tc.code, tc.reason)
			}
			wrapped := engine.SecretsOf([]string{"hunter2"}).Wrap(fmt.Errorf("apply 0002: %w", de))
			var pe *pgconn.PgError
			var me *mysql.MySQLError
			var got *engine.DBError
			switch {
			case !errors.As(wrapped, &got) || got != de:
				t.Errorf("errors.As(*DBError) lost it behind the wrappers")
			case tc.name == "postgres" && (!errors.As(wrapped, &pe) || pe.Code != tc.code):
				t.Errorf("errors.As(*pgconn.PgError) = %v: DBError does not unwrap to the driver error", pe)
			case tc.name == "mysql" && (!errors.As(wrapped, &me) || me.Number != 1054 || !errors.Is(wrapped, errDriver)):
				t.Errorf("errors.As(*mysql.MySQLError) = %v, errors.Is(errDriver) = %v: the chain is cut", me, errors.Is(wrapped, errDriver))
			}
		})
	}
}
