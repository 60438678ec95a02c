package docker

import (
	"context"
	"net"
	"net/url"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/mariadb"
	"github.com/testcontainers/testcontainers-go/modules/mysql"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
)

// flavor is everything the provider needs to know about one server product: data,
// looked up in flavors, so no switch on flavors appears elsewhere.
type flavor struct {
	// repo is the official image repository; version the default tag.
	repo, version string
	// versionParts is how many components of a server version a spec names.
	versionParts int
	// env names the variable that overrides the image; local is the image
	// fixtures/images/build.sh makes for the flavor, suggested when no image can be
	// pulled.
	env, local string
	// port is the server's port inside the container.
	port string
	// data is the data directory of images that declare no volume.
	data string
	// hello is what a client sends first on this protocol, nil when the server
	// speaks first; see probe.
	hello []byte
	// args tune the server for throwaway data. They must be accepted by the official
	// images and by the straddle-local ones (both pass leading flags to the server).
	args []string
	// run starts a container with the testcontainers module for the flavor, with
	// the admin password pw. Module options come first, opts override them.
	run func(ctx context.Context, image, pw string, opts []testcontainers.ContainerCustomizer) (testcontainers.Container, error)
	// adminURL is the admin URL for a server published at hostport.
	adminURL func(hostport, pw string) string
}

// mysqlArgs tune MySQL and MariaDB alike: no redo log flush per commit, no
// doublewrite buffer, no binary log, no reverse DNS lookup per connection.
var mysqlArgs = []string{
	"--innodb-flush-log-at-trx-commit=0",
	"--innodb-doublewrite=OFF",
	"--skip-log-bin",
	"--skip-name-resolve",
}

var flavors = map[engine.Flavor]*flavor{
	engine.FlavorPostgres: {
		repo: "postgres", version: "15", versionParts: 1,
		env: "STRADDLE_IMAGE_POSTGRES", local: "straddle-local/postgres:15",
		port: "5432/tcp",
		data: "/var/lib/postgresql/data",
		// SSLRequest: the server answers it with one byte, 'S' or 'N'.
		hello: []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f},
		// The module already passes -c fsync=off. max_wal_size bounds the WAL kept
		// on tmpfs: every CREATE DATABASE logs a copy of its template.
		args: []string{"-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_wal_size=256MB"},
		run: func(ctx context.Context, image, pw string, opts []testcontainers.ContainerCustomizer) (testcontainers.Container, error) {
			all := append([]testcontainers.ContainerCustomizer{
				postgres.WithUsername("postgres"),
				postgres.WithPassword(pw),
				postgres.WithDatabase("postgres"),
			}, opts...)
			c, err := postgres.Run(ctx, image, all...)
			if c == nil { // not a nil pointer in a non-nil interface
				return nil, err
			}
			return c, err
		},
		adminURL: func(hostport, pw string) string {
			u := url.URL{Scheme: "postgres", User: url.UserPassword("postgres", pw), Host: hostport, Path: "/postgres", RawQuery: "sslmode=disable"}
			return u.String()
		},
	},
	engine.FlavorMySQL: {
		repo: "mysql", version: "8.4", versionParts: 2,
		env: "STRADDLE_IMAGE_MYSQL", local: "straddle-local/mariadb:10.11",
		port: "3306/tcp",
		data: "/var/lib/mysql",
		args: mysqlArgs,
		run: func(ctx context.Context, image, pw string, opts []testcontainers.ContainerCustomizer) (testcontainers.Container, error) {
			all := append([]testcontainers.ContainerCustomizer{
				// root with a password: the module turns it into MYSQL_ROOT_PASSWORD.
				mysql.WithUsername("root"),
				mysql.WithPassword(pw),
				withoutEnv("MYSQL_DATABASE"),
			}, opts...)
			c, err := mysql.Run(ctx, image, all...)
			if c == nil { // not a nil pointer in a non-nil interface
				return nil, err
			}
			return c, err
		},
		adminURL: mysqlURL,
	},
	engine.FlavorMariaDB: {
		repo: "mariadb", version: "10.11", versionParts: 2,
		env: "STRADDLE_IMAGE_MARIADB", local: "straddle-local/mariadb:10.11",
		port: "3306/tcp",
		data: "/var/lib/mysql",
		args: mysqlArgs,
		run: func(ctx context.Context, image, pw string, opts []testcontainers.ContainerCustomizer) (testcontainers.Container, error) {
			all := append([]testcontainers.ContainerCustomizer{
				mariadb.WithUsername("root"),
				mariadb.WithPassword(pw),
				withoutEnv("MARIADB_DATABASE"),
			}, opts...)
			c, err := mariadb.Run(ctx, image, all...)
			if c == nil { // not a nil pointer in a non-nil interface
				return nil, err
			}
			return c, err
		},
		adminURL: mysqlURL,
	},
}

func mysqlURL(hostport, pw string) string {
	u := url.URL{Scheme: "mysql", User: url.UserPassword("root", pw), Host: hostport, Path: "/"}
	return u.String()
}

// withoutEnv drops variables a module sets by default and straddle does not want
// (a "test" database nobody uses).
func withoutEnv(names ...string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		for _, n := range names {
			delete(req.Env, n)
		}
		return nil
	}
}

// hostPort joins a host and port, bracketing IPv6 addresses.
func hostPort(host, port string) string { return net.JoinHostPort(host, port) }
