package cli

import (
	"flag"
	"io"
	"testing"

	"gotest.tools/v3/assert"
)

// TestRecordArgs keeps what a repro needs and drops output, hold and server
// flags — in particular --dsn and its value, which carries a password.
func TestRecordArgs(t *testing.T) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f checkFlags
	f.engines.register(fs)
	f.register(fs)
	args := []string{
		"--engine", "postgres:13", "-engine=mariadb", "--provider", "dsn",
		"--dsn", "postgres://admin:s3cret@db:5432/postgres", "--dsn=mysql://root:pw@db/",
		"--migrations", "db/migrations", "--old", "git:v1:q.sql", "--new", "q.sql",
		"--quiet", "--timings=false", "--format", "json", "--out", "r.json",
		"--stop-at", "expand/0002", "--keep-on-failure", "--passes", "2", "--no-during",
	}
	assert.NilError(t, fs.Parse(args))
	assert.DeepEqual(t, recordArgs(fs, args), []string{
		"--engine", "postgres:13", "-engine=mariadb",
		"--migrations", "db/migrations", "--old", "git:v1:q.sql", "--new", "q.sql",
		"--passes", "2", "--no-during",
	})
	assert.DeepEqual(t, dropFlag([]string{"--engine", "a", "--old", "x", "-engine=b"}, "engine"), []string{"--old", "x"})
}
