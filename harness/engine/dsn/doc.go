// Package dsn is the engine provider for a server that already runs: a CI service
// container, a staging server. Given an admin URL (postgres://…, mysql://… or
// mariadb://…) it checks that the server is the flavor and version a spec asks for,
// then hands out scratch databases on it through scratch.
//
// Inputs: the URL, once, to New; an engine.Spec per Start. Outputs: an
// engine.Server whose Stop drops the scratch databases this run created and closes
// its connections.
//
// It must never stop, reconfigure or restart the server, and never create or drop a
// database whose name does not start with engine.DatabasePrefix: other databases on
// the server belong to someone else. The URL's password never appears in an error.
package dsn
