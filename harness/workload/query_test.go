package workload

import (
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
)

// TestVolatile: a read whose values change with no step changing its rows is
// not compared by value between states (chef-server's stats query read
// pg_stat_all_tables and was a "wrong result").
func TestVolatile(t *testing.T) {
	tests := []struct {
		family engine.Family
		sql    string
		want   bool
		reason string
	}{
		{engine.Postgres, "SELECT name FROM users WHERE id = $1", false, "rows only"},
		{engine.Postgres, "SELECT SUM(seq_scan) AS seq_scan FROM pg_stat_all_tables", true, "statistics"},
		{engine.Postgres, "SELECT count(*) FROM pg_catalog.pg_class", true, "a catalog, qualified"},
		{engine.Postgres, "SELECT relname FROM pg_class WHERE relkind = 'r'", true, "a catalog, unqualified"},
		{engine.MySQL, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_NAME = ?", true, "information_schema"},
		{engine.Postgres, "SELECT id, now() FROM users", true, "the clock"},
		{engine.Postgres, "SELECT id FROM users WHERE created_at < CURRENT_TIMESTAMP - interval '1 day'", true, "the clock without parentheses"},
		{engine.MySQL, "SELECT id FROM users ORDER BY RAND() LIMIT 1", true, "random"},
		{engine.Postgres, "SELECT nextval('orders_id_seq')", true, "a sequence"},
		{engine.Postgres, "SELECT age, name FROM users WHERE id = $1", false, "a column named age is no call of age()"},
		{engine.Postgres, `SELECT u.random FROM users u`, false, "a column named random"},
	}
	for _, tt := range tests {
		q := &Query{Name: "Q", SQL: tt.sql, Family: tt.family}
		if got := q.Volatile(); got != tt.want {
			t.Errorf("%s: Volatile() = %v, want %v (%s)", tt.sql, got, tt.want, tt.reason)
		}
	}
}
