// Package local is the engine provider that runs a throwaway database server from
// binaries already installed on the machine: initdb + postgres for PostgreSQL,
// mariadb-install-db + mariadbd for MariaDB, mysqld --initialize-insecure + mysqld for
// MySQL. Each server gets its own temp dir (engine.TempPattern) holding its data
// directory, unix socket and log, a free loopback port, a random password, and
// durability settings turned off (fsync, synchronous commit), because the data is
// thrown away.
//
// Initializing a data directory (initdb, mariadb-install-db) is most of a start, so
// the first initialization per server binary and version is kept in a template cache
// (os.UserCacheDir()/straddle/local) and later starts copy it; servers made from one
// cache entry share its admin password.
//
// Inputs: a Config (extra binary dirs, the OS user servers run as when straddle runs
// as root, the cache dir) and an engine.Spec per Start. Outputs: an engine.Server
// (built on scratch) whose Stop shuts the server down fast and removes its temp
// dir.
//
// Servers run in their own process group so that a Ctrl-C typed in the terminal
// reaches straddle only, whose cleanup then stops them in order. On Linux they also
// get a parent-death signal so that a straddle killed outright does not leave them
// running.
//
// It must not touch system clusters or their data directories, listen on anything but
// 127.0.0.1, run a server as root (PostgreSQL refuses to and MariaDB should not), or
// kill any process it did not start.
package local
