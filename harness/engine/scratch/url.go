package scratch

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/straddle-dev/straddle/harness/engine"
)

// WithDatabase returns rawURL with its database (path) replaced by name.
func WithDatabase(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("parse server URL: %s", Redact(rawURL))
	}
	u.Path = "/" + name
	return u.String(), nil
}

// Redact returns rawURL with any password replaced by "xxxxx", for messages. What
// is not a URL with a scheme and a host (a driver-style "root:pw@tcp(h)/db", say)
// is not echoed at all: it may hold a password in a place Redacted cannot see.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "(URL not shown: want scheme://user:password@host:port/database)"
	}
	return u.Redacted()
}

// FamilyOfURL returns the family a URL's scheme names (postgres://, postgresql://,
// mysql://, mariadb://).
func FamilyOfURL(rawURL string) (engine.Family, error) {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return "", fmt.Errorf("server URL has no scheme: want postgres://… or mysql://…")
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		return engine.Postgres, nil
	case "mysql", "mariadb":
		return engine.MySQL, nil
	}
	return "", fmt.Errorf("server URL scheme %q: want postgres:// or mysql://", scheme)
}

// DriverDSN converts a URL to what database/sql's driver for the family takes: the
// URL itself for pgx, a go-sql-driver/mysql DSN for mysql.
func DriverDSN(f engine.Family, rawURL string) (driver, dsn string, err error) {
	if f == engine.Postgres {
		return "pgx", rawURL, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", fmt.Errorf("parse server URL: %s", Redact(rawURL))
	}
	c := mysql.NewConfig()
	c.User = u.User.Username()
	c.Passwd, _ = u.User.Password()
	c.Net = "tcp"
	c.Addr = u.Host
	if !strings.Contains(c.Addr, ":") {
		c.Addr += ":3306"
	}
	c.DBName = strings.TrimPrefix(u.Path, "/")
	c.ParseTime = true
	c.AllowNativePasswords = true
	q := u.Query()
	for k := range q {
		if c.Params == nil {
			c.Params = map[string]string{}
		}
		c.Params[k] = q.Get(k)
	}
	return "mysql", c.FormatDSN(), nil
}

// BindingDSN is DriverDSN for a pool whose driver binds arguments as b: pgx's
// default_query_exec_mode (cache_statement, simple_protocol, describe_exec) on
// PostgreSQL; go-sql-driver/mysql's interpolateParams for BindInterpolated on
// MySQL (prepared and prepare-each differ there by what the caller keeps, not
// by the pool).
func BindingDSN(f engine.Family, rawURL string, b engine.Binding) (driver, dsn string, err error) {
	driver, dsn, err = DriverDSN(f, rawURL)
	if err != nil {
		return "", "", err
	}
	if f == engine.Postgres {
		mode := map[engine.Binding]string{
			engine.BindPrepared:     "cache_statement",
			engine.BindInterpolated: "simple_protocol",
			engine.BindPrepareEach:  "describe_exec",
		}[b]
		if mode == "" {
			return "", "", fmt.Errorf("unknown binding %q", b)
		}
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", fmt.Errorf("parse server URL: %s", Redact(rawURL))
		}
		q := u.Query()
		q.Set("default_query_exec_mode", mode)
		u.RawQuery = q.Encode()
		return driver, u.String(), nil
	}
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", "", fmt.Errorf("parse server URL: %s", Redact(rawURL))
	}
	c.InterpolateParams = b == engine.BindInterpolated
	return driver, c.FormatDSN(), nil
}
