package command

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
)

// clientVars names the environment variables each family's client tools and
// drivers read (psql and libpq; the mysql/mariadb client), as data.
type clientVars struct {
	Host, Port, User, Password, Database string
	DefaultPort                          string
}

var families = map[engine.Family]clientVars{
	engine.Postgres: {Host: "PGHOST", Port: "PGPORT", User: "PGUSER", Password: "PGPASSWORD", Database: "PGDATABASE", DefaultPort: "5432"},
	// The mysql client reads MYSQL_HOST, MYSQL_TCP_PORT and MYSQL_PWD; MYSQL_USER and
	// MYSQL_DATABASE are the names application configs conventionally use.
	engine.MySQL: {Host: "MYSQL_HOST", Port: "MYSQL_TCP_PORT", User: "MYSQL_USER", Password: "MYSQL_PWD", Database: "MYSQL_DATABASE", DefaultPort: "3306"},
}

// Env returns the variables that point a program at db: DATABASE_URL (the
// database's URL, with its password), the family's client variables, and
// STRADDLE_FAMILY and STRADDLE_DATABASE (the database's name).
func Env(db engine.Database) ([]string, error) {
	raw := db.DSN()
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("database %s: its URL does not parse", db.Name())
	}
	v, ok := families[db.Family()]
	if !ok {
		return nil, fmt.Errorf("database %s: no client variables for family %q", db.Name(), db.Family())
	}
	port := u.Port()
	if port == "" {
		port = v.DefaultPort
	}
	pw, _ := u.User.Password()
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		name = db.Name()
	}
	return []string{
		"DATABASE_URL=" + raw,
		v.Host + "=" + u.Hostname(),
		v.Port + "=" + port,
		v.User + "=" + u.User.Username(),
		v.Password + "=" + pw,
		v.Database + "=" + name,
		"STRADDLE_FAMILY=" + string(db.Family()),
		"STRADDLE_DATABASE=" + name,
	}, nil
}

// secrets are the exact values Env hands a child that must not reach a report:
// the URL (DATABASE_URL) and its password (PGPASSWORD, MYSQL_PWD), plain and
// URL-escaped, whatever their length. Command.Redact masks them as whole values.
func secrets(db engine.Database) []string {
	return engine.SecretsOf([]string{db.DSN()}).Values()
}
