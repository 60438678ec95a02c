package engine

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Family is a database family: one wire protocol, one driver, one dialect.
type Family string

const (
	Postgres Family = "postgres"
	MySQL    Family = "mysql"
)

// Flavor is the server product within a family.
type Flavor string

const (
	FlavorPostgres Flavor = "postgres"
	FlavorMySQL    Flavor = "mysql"
	FlavorMariaDB  Flavor = "mariadb"
)

// Family reports the family a flavor belongs to.
func (f Flavor) Family() Family {
	if f == FlavorPostgres {
		return Postgres
	}
	return MySQL
}

// ErrBadSpec is wrapped by every error ParseSpec returns.
var ErrBadSpec = errors.New("bad engine spec")

// Spec names an engine to test against: a flavor and an optional version
// ("postgres:16", "mariadb:10.11"). Image, when set, overrides the container image
// the docker provider runs for it.
type Spec struct {
	Flavor  Flavor
	Version string // "" means the provider's default
	Image   string // docker image override; "" means the official image
}

// Family is shorthand for s.Flavor.Family().
func (s Spec) Family() Family { return s.Flavor.Family() }

// String renders the spec as it is written on the command line, without the image.
func (s Spec) String() string {
	if s.Version == "" {
		return string(s.Flavor)
	}
	return string(s.Flavor) + ":" + s.Version
}

var versionRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$|^latest$|^lts$`)

// ParseSpec parses "flavor[:version]". Accepted flavors are postgres (alias pg,
// postgresql), mysql and mariadb.
func ParseSpec(s string) (Spec, error) {
	name, version, _ := strings.Cut(strings.TrimSpace(s), ":")
	var fl Flavor
	switch strings.ToLower(name) {
	case "postgres", "postgresql", "pg":
		fl = FlavorPostgres
	case "mysql":
		fl = FlavorMySQL
	case "mariadb":
		fl = FlavorMariaDB
	default:
		return Spec{}, fmt.Errorf("%w %q: unknown engine %q (want postgres, mysql or mariadb, optionally with :VERSION)", ErrBadSpec, s, name)
	}
	if version != "" && !versionRE.MatchString(version) {
		return Spec{}, fmt.Errorf("%w %q: version %q is not a dotted number (e.g. postgres:16, mariadb:10.11)", ErrBadSpec, s, version)
	}
	return Spec{Flavor: fl, Version: version}, nil
}

// MustParseSpec is ParseSpec for constants in tests and tables; it panics on error.
func MustParseSpec(s string) Spec {
	sp, err := ParseSpec(s)
	if err != nil {
		panic(err)
	}
	return sp
}
