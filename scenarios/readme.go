package scenarios

import (
	"fmt"
	"io"
	"strings"
)

// ReadmeMarker separates the hand-written part of scenarios/README.md from the
// part WriteMarkdown generates from the command table.
const ReadmeMarker = "<!-- Generated from the command table by `go test ./scenarios -update`. Do not edit below this line. -->"

// WriteMarkdown writes the command reference of scenarios/README.md.
func WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("## Commands\n\n")
	b.WriteString("Scenario commands, besides testscript's own (`cmp`, `stdout`, `stderr`, `exists`, `env`, `cd`, `skip`, `stop`, …). ")
	b.WriteString("`[!]` marks the assertions that take the `!` prefix (the assertion must not hold).\n\n")
	for _, c := range Commands() {
		neg := ""
		if c.Negate {
			neg = "[!] "
		}
		fmt.Fprintf(&b, "- `%s%s`  \n  %s\n", neg, c.Usage, c.Summary)
	}
	b.WriteString("\n## Conditions\n\n")
	b.WriteString("Scripts test capabilities, never engine names: `[cap:NAME] command …` runs the command only on engines that have NAME, `[!cap:NAME]` only on those that do not.\n\n")
	for _, c := range capabilities() {
		fmt.Fprintf(&b, "- `[cap:%s]`  \n  %s\n", c.name, c.doc)
	}
	b.WriteString("\n## Per-engine files\n\n")
	b.WriteString("A FILE argument picks the most specific variant the archive carries for the engine the script runs on: " +
		"on MariaDB `rename.mariadb.sql`, then `rename.mysql.sql`, then `rename.sql`; on PostgreSQL `rename.postgres.sql`, then `rename.sql`. " +
		"The step keeps the name of the argument (`expand/rename`), so assertions are the same on every engine.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
