// Package scratch is the part of a Server that is the same for every provider:
// given an admin URL for a running PostgreSQL or MySQL/MariaDB server, it waits until
// the server answers, reads its version, and creates, opens and drops scratch
// databases named engine.DatabasePrefix+random.
//
// Providers (docker, local, dsn) start or find the server, then wrap it with Connect
// and hand over their own teardown as Config.Stop.
//
// It must not create or drop any database whose name does not start with
// engine.DatabasePrefix, and must never put a password in an error.
package scratch
