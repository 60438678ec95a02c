package local

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/straddle-dev/straddle/harness/engine"
)

// kind is everything that differs between the server products this provider runs,
// as data: the one place that knows about PostgreSQL, MariaDB and MySQL.
type kind struct {
	product string // "PostgreSQL", for messages
	pkg     string // the OS package that installs it, for messages
	// server lists the server binary's names, preferred first.
	server []string
	// init lists the data directory initializer's names; empty means the server
	// binary initializes its own data directory (mysqld --initialize-insecure).
	init []string
	// dirs are glob patterns of directories binaries are commonly installed in,
	// searched after Config.Dirs and PATH.
	dirs []string
	// version extracts the version from `server --version`; match reports whether
	// that output is this product at all (mysqld may be MariaDB).
	version *regexp.Regexp
	match   func(versionOutput string) bool
	// majorParts is how many leading version components make a major version
	// (PostgreSQL 10+: 1; MariaDB and MySQL: 2).
	majorParts func(version string) int
	// user is the OS user the server runs as when straddle runs as root.
	user string
	// stop is the signal for a fast, clean shutdown.
	stop syscall.Signal
	// secret is the file initialization reads the admin password from.
	secret func(password string) (name, content string)
	// initArgs and serverArgs are the initializer's and the server's arguments.
	initArgs   func(s *setup) []string
	serverArgs func(s *setup) []string
	// adminURL is the URL scratch connects to as admin.
	adminURL func(s *setup) string
}

// setup is what one server start needs to render its arguments.
type setup struct {
	dir      string // the temp dir: data, socket, log
	data     string // the data directory inside dir
	port     int
	password string
}

// adminUser is the superuser of every local server.
const (
	// postgres, as in the official image and most installs: migrations grant to it
	// and make it the owner (GRANT … TO postgres).
	pgAdmin    = "postgres"
	mysqlAdmin = "root"
)

var kinds = map[engine.Flavor]*kind{
	engine.FlavorPostgres: {
		product: "PostgreSQL",
		pkg:     "postgresql",
		server:  []string{"postgres"},
		init:    []string{"initdb"},
		dirs: []string{
			"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin",
			"/opt/homebrew/opt/postgresql@*/bin", "/usr/local/opt/postgresql@*/bin",
			"/opt/homebrew/bin", "/usr/local/bin", "/usr/bin",
		},
		version: regexp.MustCompile(`\(PostgreSQL\) ([0-9]+(?:\.[0-9]+)*)`),
		match:   func(out string) bool { return strings.Contains(out, "(PostgreSQL)") },
		majorParts: func(v string) int {
			if n, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0]); n < 10 {
				return 2 // 9.6
			}
			return 1
		},
		user:   "postgres",
		stop:   syscall.SIGINT, // fast shutdown: roll back, disconnect, stop
		secret: func(pw string) (string, string) { return "pwfile", pw + "\n" },
		initArgs: func(s *setup) []string {
			return []string{
				"-D", s.data, "-U", pgAdmin, "--pwfile", filepath.Join(s.dir, "pwfile"),
				// Password authentication over TCP, as on a real server; the unix socket
				// (in the temp dir) trusts its owner.
				"--auth-host=scram-sha-256", "--auth-local=trust",
				"-E", "UTF8", "--locale=C", "--no-sync",
			}
		},
		serverArgs: func(s *setup) []string {
			return []string{
				"-D", s.data, "-p", strconv.Itoa(s.port), "-k", s.dir,
				"-c", "listen_addresses=127.0.0.1",
				"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			}
		},
		adminURL: func(s *setup) string {
			u := url.URL{
				Scheme: "postgres", User: url.UserPassword(pgAdmin, s.password),
				Host: fmt.Sprintf("127.0.0.1:%d", s.port), Path: "/postgres",
				RawQuery: "sslmode=disable",
			}
			return u.String()
		},
	},
	engine.FlavorMariaDB: {
		product: "MariaDB",
		pkg:     "mariadb-server",
		server:  []string{"mariadbd", "mysqld"},
		init:    []string{"mariadb-install-db", "mysql_install_db"},
		dirs: []string{
			"/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin", "/usr/local/mariadb/bin",
			"/opt/homebrew/opt/mariadb*/bin", "/usr/local/opt/mariadb*/bin",
			"/opt/homebrew/bin", "/usr/local/bin", "/usr/bin",
		},
		version:    regexp.MustCompile(`Ver ([0-9]+\.[0-9]+\.[0-9]+)-MariaDB`),
		match:      func(out string) bool { return strings.Contains(out, "MariaDB") },
		majorParts: func(string) int { return 2 },
		user:       "mysql",
		stop:       syscall.SIGTERM,
		secret: func(pw string) (string, string) {
			// Runs in bootstrap mode: grant tables are only loaded by FLUSH PRIVILEGES.
			// The root@hostname account install-db makes is dropped: it has no password.
			q := "'" + pw + "'"
			return "init.sql", "DELETE FROM mysql.global_priv WHERE Host NOT IN ('localhost', '127.0.0.1', '::1');\n" +
				"DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost', '127.0.0.1', '::1');\n" +
				"FLUSH PRIVILEGES;\n" +
				"ALTER USER 'root'@'localhost' IDENTIFIED BY " + q + ";\n" +
				"ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY " + q + ";\n" +
				"ALTER USER 'root'@'::1' IDENTIFIED BY " + q + ";\n"
		},
		initArgs: func(s *setup) []string {
			return []string{
				"--no-defaults", "--datadir=" + s.data,
				"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
				"--extra-file=" + filepath.Join(s.dir, "init.sql"),
			}
		},
		serverArgs: func(s *setup) []string {
			return append(mysqlServerArgs(s),
				"--innodb-doublewrite=0",
				// What distribution packages and the official image configure; a bare
				// server would default to latin1.
				"--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
			)
		},
		adminURL: mysqlURL,
	},
	engine.FlavorMySQL: {
		product: "MySQL",
		pkg:     "mysql-server",
		server:  []string{"mysqld"},
		dirs: []string{
			"/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin",
			"/opt/homebrew/opt/mysql*/bin", "/usr/local/opt/mysql*/bin",
			"/opt/homebrew/bin", "/usr/local/bin", "/usr/bin",
		},
		version:    regexp.MustCompile(`Ver ([0-9]+\.[0-9]+\.[0-9]+)`),
		match:      func(out string) bool { return !strings.Contains(out, "MariaDB") },
		majorParts: func(string) int { return 2 },
		user:       "mysql",
		stop:       syscall.SIGTERM,
		secret: func(pw string) (string, string) {
			q := "'" + pw + "'"
			return "init.sql", "CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY " + q + ";\n" +
				"GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n" +
				"ALTER USER 'root'@'localhost' IDENTIFIED BY " + q + ";\n"
		},
		initArgs: func(s *setup) []string {
			return []string{
				"--no-defaults", "--initialize-insecure", "--datadir=" + s.data,
				"--init-file=" + filepath.Join(s.dir, "init.sql"),
				"--log-error=" + filepath.Join(s.dir, "init.log"),
			}
		},
		serverArgs: func(s *setup) []string {
			return append(mysqlServerArgs(s), "--mysqlx=OFF")
		},
		adminURL: mysqlURL,
	},
}

func mysqlServerArgs(s *setup) []string {
	return []string{
		"--no-defaults", "--datadir=" + s.data,
		"--port=" + strconv.Itoa(s.port), "--bind-address=127.0.0.1",
		"--socket=" + filepath.Join(s.dir, "mysqld.sock"),
		"--pid-file=" + filepath.Join(s.dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(s.dir, "server.log"),
		"--skip-name-resolve", "--skip-log-bin",
		"--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=64M",
	}
}

func mysqlURL(s *setup) string {
	u := url.URL{
		Scheme: "mysql", User: url.UserPassword(mysqlAdmin, s.password),
		Host: fmt.Sprintf("127.0.0.1:%d", s.port), Path: "/",
	}
	return u.String()
}
