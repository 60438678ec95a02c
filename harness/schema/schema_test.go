package schema

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	users := []Object{
		{Kind: Table, Table: "users"},
		{Kind: Column, Table: "users", Name: "id", Detail: "bigint NOT NULL"},
		{Kind: Column, Table: "users", Name: "name", Detail: "varchar(100) NOT NULL"},
		{Kind: Index, Table: "users", Name: "users_pkey", Detail: "UNIQUE (id)"},
	}
	with := func(base []Object, f func([]Object) []Object) Snapshot {
		return New(f(append([]Object(nil), base...)))
	}
	tests := []struct {
		name   string
		a, b   Snapshot
		want   []string
		reason string
	}{
		{"nothing", New(users), New(users), nil, "the same schema"},
		{"column added", New(users), with(users, func(o []Object) []Object {
			return append(o, Object{Kind: Column, Table: "users", Name: "email", Detail: "varchar(200)"})
		}), []string{"+ column users.email varchar(200)"}, "ADD COLUMN"},
		{"column renamed", New(users), with(users, func(o []Object) []Object {
			o[2].Name = "full_name"
			return o
		}), []string{"→ column users.name renamed to full_name"}, "one drop and one add alike but for the name is a rename"},
		{"two columns renamed", New(users), with(users, func(o []Object) []Object {
			o[1].Name, o[2].Name = "user_id", "full_name"
			return o
		}), []string{"→ column users.name renamed to full_name", "→ column users.id renamed to user_id"}, "each drop has the one add of its detail"},
		{"two columns of one type renamed", New(append(append([]Object(nil), users...), Object{Kind: Column, Table: "users", Name: "nick", Detail: "varchar(100) NOT NULL"})),
			New(append(append([]Object(nil), users[:2]...), Object{Kind: Column, Table: "users", Name: "a", Detail: "varchar(100) NOT NULL"},
				Object{Kind: Column, Table: "users", Name: "b", Detail: "varchar(100) NOT NULL"}, users[3])),
			[]string{"+ column users.a varchar(100) NOT NULL", "+ column users.b varchar(100) NOT NULL", "- column users.name", "- column users.nick"}, "which became which is not known: drops and adds"},
		{"column type changed", New(users), with(users, func(o []Object) []Object {
			o[2].Detail = "text NOT NULL"
			return o
		}), []string{"~ column users.name: varchar(100) NOT NULL → text NOT NULL"}, "same name, another detail"},
		{"column dropped and another added", New(users), with(users, func(o []Object) []Object {
			o[2] = Object{Kind: Column, Table: "users", Name: "email", Detail: "varchar(200)"}
			return o
		}), []string{"+ column users.email varchar(200)", "- column users.name"}, "different details: not a rename"},
		{"table renamed", New(users), with(users, func(o []Object) []Object {
			for i := range o {
				o[i].Table = "accounts"
			}
			return append(o, Object{Kind: View, Table: "users"})
		}), []string{"→ table users renamed to accounts", "+ view users"}, "its columns and index move with it"},
		{"table renamed, a column added and one dropped in the same step", New(append(users, Object{Kind: Column, Table: "users", Name: "nick", Detail: "text"})), with(users, func(o []Object) []Object {
			for i := range o {
				o[i].Table = "accounts"
			}
			return append(o, Object{Kind: Column, Table: "accounts", Name: "created_at", Detail: "timestamp NOT NULL"})
		}), []string{"→ table users renamed to accounts", "+ column accounts.created_at timestamp NOT NULL", "- column accounts.nick"}, "sqlc's ondeck example: RENAME TO, ADD COLUMN and DROP COLUMN in one migration"},
		{"table replaced by another", New(users), New([]Object{
			{Kind: Table, Table: "people"},
			{Kind: Column, Table: "people", Name: "person_id", Detail: "uuid NOT NULL"},
			{Kind: Column, Table: "people", Name: "display", Detail: "text"},
		}), []string{"+ table people", "- table users", "+ column people.display text", "+ column people.person_id uuid NOT NULL", "- column users.id", "- column users.name", "- index users.users_pkey"}, "no column in common: not a rename"},
		{"enum label renamed", New([]Object{{Kind: Enum, Table: "mood", Name: "happy", Detail: "1"}}),
			New([]Object{{Kind: Enum, Table: "mood", Name: "glad", Detail: "1"}}),
			[]string{"→ enum mood 'happy' renamed to glad"}, "RENAME VALUE keeps the position"},
		{"whitespace in details", New([]Object{{Kind: Index, Table: "t", Name: "i", Detail: "UNIQUE  (a,\n b)"}}),
			New([]Object{{Kind: Index, Table: "t", Name: "i", Detail: "UNIQUE (a, b)"}}), nil, "catalog text is folded before comparing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range Diff(tt.a, tt.b) {
				got = append(got, c.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s\nreason: %s", diff, tt.reason)
			}
		})
	}
}
