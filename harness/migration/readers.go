package migration

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/input"
	"github.com/straddle-dev/straddle/harness/plan"
)

// ory/popx (Kratos, Hydra, Keto) keeps one migration per version in
// VERSION_NAME[.DIALECT][.autocommit].up.sql files: a file without a dialect is
// for every database, one with a dialect replaces it there. popx's dialect names
// (pop's canonical ones and their aliases) map to straddle's families; cockroach
// and sqlite3 files are for databases straddle does not run.
var (
	rePopx       = regexp.MustCompile(`^([0-9]+)_([^.]+)(\.[a-z0-9]+)?(\.autocommit)?\.(up|down)\.sql$`)
	popxDialects = map[string]engine.Family{
		"postgres": engine.Postgres, "postgresql": engine.Postgres, "pg": engine.Postgres,
		"mysql": engine.MySQL, "mariadb": engine.MySQL,
		"cockroach": "", "cockroachdb": "", "crdb": "", "sqlite3": "", "sqlite": "",
	}
)

// popxFile is what a popx file name says.
type popxFile struct {
	version, name string
	dialect       string // "" for every database
	family        engine.Family
	autocommit    bool
}

// parsePopx reads a popx-style name; ok is false for names without a dialect or
// autocommit marker (plain golang-migrate names, dots in the name included).
func parsePopx(base string) (popxFile, bool) {
	m := rePopx.FindStringSubmatch(base)
	if m == nil || m[3] == "" && m[4] == "" {
		return popxFile{}, false
	}
	p := popxFile{version: m[1], name: m[1] + "_" + m[2], autocommit: m[4] != ""}
	switch d := strings.TrimPrefix(m[3], "."); d {
	case "":
	case "autocommit":
		p.autocommit = true
	default:
		f, ok := popxDialects[d]
		if !ok {
			// Not a dialect: a golang-migrate name with a dot ("0001_add.users").
			return popxFile{}, false
		}
		p.dialect, p.family = d, f
	}
	return p, true
}

// pickPopx keeps, for each version, the file for family (postgres when family
// is "") over the file for every database, and drops the files of other
// dialects.
func pickPopx(cands []candidate, popx map[int]popxFile, family engine.Family) []candidate {
	if len(popx) == 0 {
		return cands
	}
	if family == "" {
		family = engine.Postgres
	}
	specific := map[string]bool{} // versions with a file for family
	for i, c := range cands {
		if p, ok := popx[i]; ok && p.dialect != "" && p.family == family {
			specific[normVersion(c.step.Version)] = true
		}
	}
	var out []candidate
	for i, c := range cands {
		p, ok := popx[i]
		switch {
		case !ok:
			if specific[normVersion(c.step.Version)] {
				continue // a golang-migrate file for every database, replaced
			}
		case p.dialect == "" && specific[normVersion(c.step.Version)]:
			continue
		case p.dialect != "" && p.family != family:
			continue
		}
		out = append(out, c)
	}
	return out
}

// atlasSum is the name of Atlas's integrity file.
const atlasSum = "atlas.sum"

// reAtlasDirective matches a file directive of Atlas ("-- atlas:txmode none").
var reAtlasDirective = regexp.MustCompile(`^(?:--|#)\s*atlas:(\w+)(?:\s+(.*))?$`)

// atlasDirectives returns the directives of the comment block at the top of an
// Atlas file. Atlas counts them only when a blank line separates the block from
// the statements (they then belong to the file, not to the first statement).
func atlasDirectives(src string) map[string]string {
	var block []string
	rest := src
	for strings.HasPrefix(rest, "#") || strings.HasPrefix(rest, "--") {
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			block = append(block, strings.TrimSpace(rest))
			rest = ""
			break
		}
		block = append(block, strings.TrimSpace(rest[:i]))
		rest = rest[i+1:]
	}
	if rest != "" && !strings.HasPrefix(rest, "\n") && !strings.HasPrefix(rest, "\r\n") {
		return nil
	}
	ds := map[string]string{}
	for _, l := range block {
		if m := reAtlasDirective.FindStringSubmatch(l); m != nil {
			ds[m[1]] = strings.TrimSpace(m[2])
		}
	}
	return ds
}

// atlasTxMode reads -- atlas:txmode: "none" runs the file outside a transaction.
func atlasTxMode(path, src string) (noTx bool, err error) {
	mode, ok := atlasDirectives(src)["txmode"]
	switch {
	case !ok, mode == "file", mode == "all":
		return false, nil
	case mode == "none":
		return true, nil
	}
	return false, plan.Errorf(path, 1, "unknown -- atlas:txmode %q (want none, file or all)", mode)
}

// checkAtlasSum verifies the directory's atlas.sum as `atlas migrate` does: each
// file's hash is the SHA-256 of the names and contents of it and every file
// before it in name order (a file with -- atlas:sum ignore adds its name only),
// base64-encoded; the first line is the hash of all the entries. A file added,
// removed or edited since `atlas migrate hash` is an error naming it.
func checkAtlasSum(dir string, files []file) error {
	sumPath := filepath.Join(dir, atlasSum)
	b, err := input.ReadFile(sumPath)
	if err != nil {
		return err // bad input naming the file
	}
	type entry struct {
		name, hash string
		line       int
	}
	var want []entry
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var total string
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimRight(sc.Text(), "\r")
		if n == 1 {
			t, ok := strings.CutPrefix(l, "h1:")
			if !ok {
				return plan.Errorf(sumPath, 1, "checksum file format invalid: the first line is h1:SUM")
			}
			total = t
			continue
		}
		name, hash, ok := strings.Cut(l, "h1:")
		if !ok {
			return plan.Errorf(sumPath, n, "checksum file format invalid: want NAME h1:HASH")
		}
		want = append(want, entry{strings.TrimSpace(name), hash, n})
	}
	if err := sc.Err(); err != nil {
		return plan.Errorf(sumPath, n, "cannot read: %v", err)
	}
	if n == 0 {
		return plan.Errorf(sumPath, 0, "checksum file format invalid: empty")
	}
	sumOf := func(es []entry) string {
		h := sha256.New()
		for _, e := range es {
			h.Write([]byte(e.name))
			h.Write([]byte(e.hash))
		}
		return base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	if sumOf(want) != total {
		return plan.Errorf(sumPath, 1, "checksum mismatch: the file's own sum does not match its entries; it was edited by hand: run atlas migrate hash")
	}
	var got []entry
	h := sha256.New()
	for _, f := range files {
		if f.dirPhase != "" || filepath.Dir(f.path) != filepath.Clean(dir) {
			continue
		}
		h.Write([]byte(f.base))
		if mode, ok := atlasDirectives(f.src)["sum"]; ok && mode == "ignore" {
			continue
		}
		h.Write([]byte(f.src))
		got = append(got, entry{name: f.base, hash: base64.StdEncoding.EncodeToString(h.Sum(nil))})
	}
	if sumOf(got) == total {
		return nil
	}
	const fix = "you have a checksum error in your migration directory, as atlas migrate says: this happens when a migration file is created or edited by hand; check the file and run atlas migrate hash"
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(want):
			return plan.Errorf(filepath.Join(dir, got[i].name), 0, "not in %s; %s", atlasSum, fix)
		case i >= len(got):
			return plan.Errorf(sumPath, want[i].line, "%s is listed but missing from the directory; %s", want[i].name, fix)
		case got[i].name != want[i].name:
			return plan.Errorf(filepath.Join(dir, got[i].name), 0, "not in %s where expected (it lists %s on line %d); %s", atlasSum, want[i].name, want[i].line, fix)
		case got[i].hash != want[i].hash:
			return plan.Errorf(filepath.Join(dir, got[i].name), 0, "edited since atlas.sum was written (line %d); %s", want[i].line, fix)
		}
	}
	return plan.Errorf(sumPath, 1, "checksum mismatch; %s", fix)
}

// fromLastCheckpoint returns files from the last Atlas checkpoint on (a file with
// -- atlas:checkpoint): on an empty database atlas migrate applies the
// checkpoint, which holds the schema of every file before it, and what follows.
func fromLastCheckpoint(files []file) []file {
	last := -1
	for i, f := range files {
		if _, ok := atlasDirectives(f.src)["checkpoint"]; ok {
			last = i
		}
	}
	if last <= 0 {
		return files
	}
	return files[last:]
}

// atlasName returns the version and name of an Atlas file: the version is what
// comes before the first "_" ("20240101120000_add_users.sql" → "20240101120000").
func atlasName(base string) (version, name string) {
	name = strings.TrimSuffix(base, ".sql")
	version, _, _ = strings.Cut(name, "_")
	return version, name
}

// sqitchPlan is the name of sqitch's plan file.
const sqitchPlan = "sqitch.plan"

// loadSqitch reads the changes of dir/sqitch.plan, in plan order, from
// deploy/CHANGE.sql. A change reworked after a tag is deployed from
// deploy/CHANGE@TAG.sql up to that tag and from deploy/CHANGE.sql after it, as
// sqitch does. A deploy script's BEGIN; … COMMIT; (sqitch's template on
// PostgreSQL) is the step's transaction and is dropped: the runner makes its own.
func loadSqitch(dir string, syn syntax) ([]candidate, error) {
	planPath := filepath.Join(dir, sqitchPlan)
	b, err := input.ReadFile(planPath)
	if err != nil {
		return nil, err // bad input naming the file
	}
	type change struct {
		name string
		tags []string // the tags planned right after it
		line int
	}
	var changes []change
	lastSeen := map[string]int{} // change name → index in changes of its latest occurrence
	next := map[int]int{}        // index of a reworked occurrence → index of its rework
	for i, raw := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		n := i + 1
		l := strings.TrimSpace(raw)
		switch {
		case l == "", strings.HasPrefix(l, "#"), strings.HasPrefix(l, "%"):
			continue
		case strings.HasPrefix(l, "@"):
			tag := strings.Fields(l)[0][1:]
			if tag == "" {
				return nil, plan.Errorf(planPath, n, "tag without a name; write @NAME TIMESTAMP PLANNER <EMAIL>")
			}
			if len(changes) == 0 {
				return nil, plan.Errorf(planPath, n, "tag @%s before any change; a tag names the change planned before it", tag)
			}
			changes[len(changes)-1].tags = append(changes[len(changes)-1].tags, tag)
			continue
		}
		name := strings.Fields(l)[0]
		if strings.ContainsAny(name, "@:[]#") {
			return nil, plan.Errorf(planPath, n, "%q is not a change name; a change line is NAME [DEPENDENCIES] TIMESTAMP PLANNER <EMAIL> [# NOTE]", name)
		}
		if k, ok := lastSeen[name]; ok {
			tagged := false
			for j := k; j < len(changes); j++ {
				tagged = tagged || len(changes[j].tags) > 0
			}
			if !tagged {
				return nil, plan.Errorf(planPath, n, "change %s is planned twice without a tag between (first on line %d); sqitch reworks a change only after a tag", name, changes[k].line)
			}
			next[k] = len(changes)
		}
		lastSeen[name] = len(changes)
		changes = append(changes, change{name: name, line: n})
	}
	if len(changes) == 0 {
		return nil, plan.Errorf(planPath, 0, "no changes planned")
	}
	var cands []candidate
	for i, c := range changes {
		script := c.name
		if m, ok := next[i]; ok {
			// An earlier version of a reworked change: sqitch tries
			// CHANGE@TAG.sql for the tags between it and its rework, latest
			// first, then its own, and takes the first file there is (the
			// latest name when there is none) — App::Sqitch::Plan::Change's
			// rework_tags and path_segments.
			var tags []string
			for j := m - 1; j > i; j-- {
				tags = append(tags, changes[j].tags...)
			}
			tags = append(tags, c.tags...)
			script = c.name + "@" + tags[0]
			for _, t := range tags {
				if _, err := os.Stat(filepath.Join(dir, "deploy", c.name+"@"+t+".sql")); err == nil {
					script = c.name + "@" + t
					break
				}
			}
		}
		path := filepath.Join(dir, "deploy", script+".sql")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, plan.Errorf(planPath, c.line, "change %s has no deploy script %s", c.name, path)
		}
		src, err := input.ReadFile(path)
		if err != nil {
			return nil, err // bad input naming the file
		}
		bd, err := parseBody(Plain, syn, path, string(src))
		if err != nil {
			return nil, err
		}
		bd.stmts = dropTxWrapper(bd.stmts)
		version := fmt.Sprintf("%04d", i+1)
		cands = append(cands, candidate{
			step:     Step{Version: version, Name: script, File: path, Statements: bd.stmts, NoTransaction: bd.noTx, Allows: bd.allows},
			head:     bd.phase,
			headLine: bd.phaseLine,
			sortKey:  version,
		})
	}
	return cands, nil
}

// dropTxWrapper drops a leading BEGIN and a trailing COMMIT.
func dropTxWrapper(stmts []Statement) []Statement {
	is := func(s Statement, words ...string) bool {
		t := strings.ToUpper(strings.Join(strings.Fields(s.SQL), " "))
		for _, w := range words {
			if t == w {
				return true
			}
		}
		return false
	}
	if len(stmts) >= 2 && is(stmts[0], "BEGIN", "START TRANSACTION", "BEGIN TRANSACTION", "BEGIN WORK") && is(stmts[len(stmts)-1], "COMMIT", "COMMIT TRANSACTION", "COMMIT WORK", "END") {
		return stmts[1 : len(stmts)-1]
	}
	return stmts
}

var (
	reLiquibaseHeader    = regexp.MustCompile(`(?i)^--\s*liquibase\s+formatted\s+sql\b`)
	reLiquibaseChangeset = regexp.MustCompile(`(?i)^--\s*changeset\s+(.*)$`)
)

// isLiquibase reports whether src is a Liquibase formatted SQL file: its first
// non-blank line is "--liquibase formatted sql".
func isLiquibase(src string) bool {
	src = strings.TrimPrefix(src, "\uFEFF")
	for _, l := range strings.SplitN(src, "\n", 20) {
		if t := strings.TrimSpace(l); t != "" {
			return reLiquibaseHeader.MatchString(t)
		}
	}
	return false
}

// liquibaseDBMS maps Liquibase's dbms names to families.
var liquibaseDBMS = map[string]engine.Family{
	"postgresql": engine.Postgres, "postgres": engine.Postgres,
	"mysql": engine.MySQL, "mariadb": engine.MySQL,
}

// loadLiquibase reads the changesets of one formatted SQL file, each a step
// named by its id, in file order (seq numbers the steps across the files read so
// far, which keeps Liquibase's order: files by name, changesets as written).
// Attributes: runInTransaction:false; dbms:LIST (a changeset for other databases
// is skipped; !name excludes); endDelimiter:X; splitStatements:false sends the
// changeset as one statement. A "-- straddle:phase P" line right after the
// --changeset line gives its phase. Lines before the first --changeset hold
// comments only.
func loadLiquibase(path, src string, syn syntax, family engine.Family, seq *int) ([]candidate, error) {
	if family == "" {
		family = engine.Postgres
	}
	lines := strings.SplitAfter(strings.TrimPrefix(src, "\uFEFF"), "\n")
	type cs struct {
		line           int
		id             string
		noTx, noSplit  bool
		skip           bool
		delim          string
		from, to       int // line indexes of the body
		phase          plan.Phase
		phaseLine      int
		headerFinished bool
	}
	var sets []*cs
	var cur *cs
	for i, raw := range lines {
		n := i + 1
		t := strings.TrimSpace(raw)
		if cur == nil && reLiquibaseHeader.MatchString(t) {
			continue
		}
		if m := reLiquibaseChangeset.FindStringSubmatch(t); m != nil {
			if cur != nil {
				cur.to = i
			}
			fields := strings.Fields(m[1])
			if len(fields) == 0 {
				return nil, plan.Errorf(path, n, "--changeset needs author:id")
			}
			author, id, ok := strings.Cut(fields[0], ":")
			if !ok || author == "" || id == "" {
				return nil, plan.Errorf(path, n, "--changeset %s: want author:id", fields[0])
			}
			cur = &cs{line: n, id: id, from: i + 1, to: len(lines)}
			for _, attr := range fields[1:] {
				k, v, ok := strings.Cut(attr, ":")
				if !ok {
					return nil, plan.Errorf(path, n, "changeset attribute %q: want name:value", attr)
				}
				switch strings.ToLower(k) {
				case "runintransaction":
					cur.noTx = strings.EqualFold(v, "false")
				case "splitstatements":
					cur.noSplit = strings.EqualFold(v, "false")
				case "enddelimiter":
					cur.delim = v
				case "dbms":
					cur.skip = !dbmsIncludes(v, family)
				}
				// Other attributes (runOnChange, context, labels, failOnError, …)
				// do not change what is applied once.
			}
			sets = append(sets, cur)
			continue
		}
		if cur == nil {
			if t != "" && !strings.HasPrefix(t, "--") {
				return nil, plan.Errorf(path, n, "SQL before the first --changeset author:id belongs to no changeset")
			}
			continue
		}
		if !cur.headerFinished {
			if m := reDirective.FindStringSubmatch(t); m != nil && m[1] == "phase" {
				p, err := plan.ParsePhase(strings.TrimSpace(m[2]))
				if err != nil {
					return nil, plan.Errorf(path, n, "%v", err)
				}
				cur.phase, cur.phaseLine = p, n
				continue
			}
			if t != "" && !strings.HasPrefix(t, "--") {
				cur.headerFinished = true
			}
		}
	}
	if len(sets) == 0 {
		return nil, plan.Errorf(path, 0, "no --changeset author:id in a Liquibase formatted SQL file")
	}
	var cands []candidate
	for _, c := range sets {
		if c.skip {
			continue
		}
		text := strings.Join(lines[c.from:c.to], "")
		var stmts []Statement
		switch {
		case c.noSplit:
			body := strings.TrimSpace(stripLiquibaseComments(text))
			if body != "" {
				stmts = []Statement{{SQL: strings.TrimSuffix(body, ";"), File: path, Line: c.from + 1}}
			}
		default:
			if c.delim != "" && c.delim != ";" {
				text = "DELIMITER " + c.delim + "\n" + text
			}
			s, _, err := split(syn, path, text, c.from+1-boolInt(c.delim != "" && c.delim != ";"))
			if err != nil {
				return nil, err
			}
			stmts = s
		}
		*seq++
		version := fmt.Sprintf("%06d", *seq)
		cands = append(cands, candidate{
			// Liquibase runs a changeset in a transaction unless
			// runInTransaction:false says otherwise, CONCURRENTLY or not.
			step:     Step{Version: version, Name: c.id, File: path, Statements: stmts, NoTransaction: c.noTx},
			head:     c.phase,
			headLine: c.phaseLine,
			sortKey:  version,
		})
	}
	return cands, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// dbmsIncludes reports whether a changeset's dbms list runs on family.
func dbmsIncludes(list string, family engine.Family) bool {
	included, any := false, false
	for _, d := range strings.Split(list, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		neg := strings.HasPrefix(d, "!")
		d = strings.TrimPrefix(d, "!")
		switch {
		case d == "all":
			included = !neg
			any = true
		case neg && liquibaseDBMS[d] == family:
			return false
		case !neg:
			any = true
			if liquibaseDBMS[d] == family {
				included = true
			}
		}
	}
	return included || !any
}

// stripLiquibaseComments drops whole-line -- comments (--rollback, --comment:).
func stripLiquibaseComments(text string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "--") {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}
