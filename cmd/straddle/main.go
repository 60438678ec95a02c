// Command straddle proves a database upgrade is safe to roll out with zero downtime:
// it runs the old release's and the new release's queries against a real database
// while the new release's migrations are applied step by step. See README.md.
package main

import (
	"os"

	"github.com/straddle-dev/straddle/internal/cli"
)

func main() { os.Exit(cli.Main()) }
