package migration

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/straddle-dev/straddle/harness/input"
	"github.com/straddle-dev/straddle/harness/plan"
)

// Format is a migration directory layout and file syntax.
type Format string

const (
	// GolangMigrate: VERSION_NAME.up.sql; .down.sql files are ignored.
	GolangMigrate Format = "golang-migrate"
	// Goose: VERSION_NAME.sql with -- +goose Up / Down sections; only Up is applied.
	Goose Format = "goose"
	// Dbmate: VERSION_NAME.sql with -- migrate:up / down sections; only up is applied.
	Dbmate Format = "dbmate"
	// Flyway: V<version>__<description>.sql; undo (U) files are ignored, repeatable
	// (R__) and baseline (B) files are an error.
	Flyway Format = "flyway"
	// Plain: any *.sql files, applied in natural name order.
	Plain Format = "plain"
	// Atlas: VERSION[_NAME].sql files in name order, checked against atlas.sum;
	// -- atlas:txmode none runs a file outside a transaction.
	Atlas Format = "atlas"
	// Sqitch: the changes of sqitch.plan in plan order, from deploy/CHANGE.sql.
	Sqitch Format = "sqitch"
	// Liquibase: formatted SQL files (--liquibase formatted sql), one step per
	// --changeset author:id, files in name order.
	Liquibase Format = "liquibase"
	// SQLMigrate: rubenv/sql-migrate's files, any name, with -- +migrate Up /
	// Down sections; only Up is applied; the whole name is the migration's id,
	// ordered by its leading number, then by name.
	SQLMigrate Format = "sql-migrate"
)

// Formats lists the formats in the order detection reports them.
var Formats = []Format{GolangMigrate, Goose, Dbmate, Flyway, Atlas, Sqitch, Liquibase, SQLMigrate, Plain}

// ParseFormat returns the format named s. Its error wraps plan.ErrBadInput and
// lists the valid names.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w: unknown migration format %q (want one of %s)", plan.ErrBadInput, s, formatList())
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

var (
	reGolangMigrate = regexp.MustCompile(`^([0-9]+)_(.*)\.(up|down)\.sql$`)
	reFlyway        = regexp.MustCompile(`^([VUB])([0-9]+(?:[._][0-9]+)*)__(.*)\.sql$`)
	reFlywayRepeat  = regexp.MustCompile(`^R__(.*)\.sql$`)
	reGooseName     = regexp.MustCompile(`^([0-9]+)_.*\.sql$`)
	reGooseGo       = regexp.MustCompile(`^[0-9]+_.*\.go$`)
	reDbmateName    = regexp.MustCompile(`^([0-9]+).*\.sql$`)
	reLeadingNumber = regexp.MustCompile(`^[0-9]+`)

	reGooseUp          = regexp.MustCompile(`(?im)^--\s*\+goose\s+up\s*$`)
	reDbmateUp         = regexp.MustCompile(`(?m)^--\s*migrate:up\b`)
	reGooseMarker      = regexp.MustCompile(`^--\s*\+goose\b(.*)$`)
	reSQLMigrateUp     = regexp.MustCompile(`(?im)^--\s*\+migrate\s+up\b`)
	reSQLMigrateMarker = regexp.MustCompile(`^--\s*\+migrate\b(.*)$`)
	reDbmateMarker     = regexp.MustCompile(`^--\s*migrate:(up|down)\b(.*)$`)
	reDirective        = regexp.MustCompile(`^\s*--\s*straddle:(\S*)(.*)$`)
	reFlywayConfNoTx   = regexp.MustCompile(`(?m)^\s*executeInTransaction\s*=\s*false\s*$`)
)

// classify guesses the format of one file from its name, then its content.
func classify(path, base, src string) (Format, error) {
	switch {
	case reGolangMigrate.MatchString(base):
		return GolangMigrate, nil
	case reFlyway.MatchString(base), reFlywayRepeat.MatchString(base):
		return Flyway, nil
	}
	return markers(path, src)
}

// markers returns the format whose section markers src holds, or Plain.
func markers(path, src string) (Format, error) {
	if isLiquibase(src) {
		return Liquibase, nil
	}
	goose, dbmate, sqlMigrate := reGooseUp.MatchString(src), reDbmateUp.MatchString(src), reSQLMigrateUp.MatchString(src)
	switch {
	case goose && dbmate:
		return "", plan.Errorf(path, 0, "has both goose (-- +goose Up) and dbmate (-- migrate:up) sections; keep one")
	case (goose || dbmate) && sqlMigrate:
		return "", plan.Errorf(path, 0, "has both sql-migrate (-- +migrate Up) and goose or dbmate sections; keep one")
	case goose:
		return Goose, nil
	case dbmate:
		return Dbmate, nil
	case sqlMigrate:
		return SQLMigrate, nil
	}
	return Plain, nil
}

// wants describes the files of a format, for error messages.
var wants = map[Format]string{
	GolangMigrate: "golang-migrate files are named VERSION_NAME.up.sql or VERSION_NAME.down.sql",
	Goose:         "goose files are named VERSION_NAME.sql and have a -- +goose Up section",
	Dbmate:        "dbmate files are named VERSION_NAME.sql and have a -- migrate:up section",
	Flyway:        "Flyway files are named V<version>__<description>.sql",
	Plain:         "plain migrations are *.sql files",
	Atlas:         "Atlas files are named VERSION_NAME.sql next to an atlas.sum",
	Sqitch:        "sqitch changes are listed in sqitch.plan, with deploy/CHANGE.sql",
	Liquibase:     "Liquibase formatted SQL files start with --liquibase formatted sql",
	SQLMigrate:    "sql-migrate files have a -- +migrate Up section",
}

// nameOf returns the version and display name of a migration file of format f,
// or skip for files that are not applied (golang-migrate .down.sql, Flyway undo).
func nameOf(f Format, path, base string) (version, name string, skip bool, err error) {
	switch f {
	case GolangMigrate:
		m := reGolangMigrate.FindStringSubmatch(base)
		if m == nil {
			return "", "", false, plan.Errorf(path, 0, "not a golang-migrate migration: %s", wants[f])
		}
		return m[1], strings.TrimSuffix(base, "."+m[3]+".sql"), m[3] == "down", nil
	case Flyway:
		if reFlywayRepeat.MatchString(base) {
			return "", "", false, plan.Errorf(path, 0, "Flyway repeatable migrations (R__) are not supported: straddle applies each migration once, in version order; make it a versioned migration (V<version>__...) or remove it")
		}
		m := reFlyway.FindStringSubmatch(base)
		switch {
		case m == nil:
			return "", "", false, plan.Errorf(path, 0, "not a Flyway migration: %s", wants[f])
		case m[1] == "B":
			return "", "", false, plan.Errorf(path, 0, "Flyway baseline migrations (B<version>__) are not supported; use --baseline VERSION to mark the migrations the old release already runs on")
		}
		return strings.ReplaceAll(m[2], "_", "."), strings.TrimSuffix(base, ".sql"), m[1] == "U", nil
	case Atlas:
		version, name = atlasName(base)
		return version, name, false, nil
	case SQLMigrate:
		name = strings.TrimSuffix(base, ".sql")
		return name, name, false, nil
	case Goose, Dbmate:
		re := reGooseName
		if f == Dbmate {
			re = reDbmateName
		}
		m := re.FindStringSubmatch(base)
		if m == nil {
			return "", "", false, plan.Errorf(path, 0, "not a %s migration: %s", f, wants[f])
		}
		return m[1], strings.TrimSuffix(base, ".sql"), false, nil
	}
	name = strings.TrimSuffix(base, ".sql")
	// Up/down pairs under another tool's names (authelia's
	// V0001.Initial_Schema.up.sql): the down file rolls the up file back.
	lower := strings.ToLower(name)
	for _, s := range []string{".down", "_down", ".undo", ".rollback", "_rollback"} {
		if strings.HasSuffix(lower, s) {
			return "", "", true, nil
		}
	}
	for _, s := range []string{".up", "_up"} {
		if strings.HasSuffix(lower, s) {
			name = name[:len(name)-len(s)]
		}
	}
	version = reLeadingNumber.FindString(name)
	if version == "" {
		version = name
	}
	return version, name, false, nil
}

// looseName is nameOf for a single file of unknown format: whichever naming
// scheme matches, else the base name without extension.
func looseName(base string) (version, name string) {
	if m := reGolangMigrate.FindStringSubmatch(base); m != nil {
		return m[1], strings.TrimSuffix(base, "."+m[3]+".sql")
	}
	if m := reFlyway.FindStringSubmatch(base); m != nil {
		return strings.ReplaceAll(m[2], "_", "."), strings.TrimSuffix(base, ".sql")
	}
	name = base
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		name = base[:i]
	}
	version = reLeadingNumber.FindString(name)
	if version == "" {
		version = name
	}
	return version, name
}

// body is what a migration file holds once parsed.
type body struct {
	stmts     []Statement
	noTx      bool
	phase     plan.Phase // from a -- straddle:phase header; "" without one
	phaseLine int
	allows    []plan.Allow // from -- straddle:allow lines of the header
}

// parseBody reads the statements, in-file markers and phase header of one file.
func parseBody(f Format, syn syntax, path, src string) (body, error) {
	src = strings.TrimPrefix(src, "\uFEFF")
	lines := strings.SplitAfter(src, "\n")
	var (
		b      body
		upLine int // 1-based line of the up marker, 0 for formats without one
		err    error
	)
	switch f {
	case Goose:
		b.stmts, b.noTx, upLine, err = parseGoose(syn, path, lines)
	case Dbmate:
		b.stmts, b.noTx, upLine, err = parseDbmate(syn, path, lines)
	case SQLMigrate:
		// sql-migrate runs a file in a transaction unless its Up line says
		// notransaction, statement by statement.
		b.stmts, b.noTx, upLine, err = parseSections(sqlMigrateTool, syn, path, lines)
	case Atlas:
		// -- atlas:delimiter X: statements end at X, as after a DELIMITER line.
		text, base := src, 1
		if d, ok := atlasDirectives(src)["delimiter"]; ok && d != "" {
			text, base = "DELIMITER "+d+"\n"+src, 0
		}
		b.stmts, _, err = split(syn, path, text, base) // -- atlas:txmode none says it
	default:
		var content bool
		b.stmts, content, err = split(syn, path, src, 1)
		// golang-migrate sends a file in one call, which PostgreSQL runs as one
		// transaction when it holds several statements, CONCURRENTLY or not
		// (25001), and as itself when it holds one; Flyway, sqitch scripts and
		// plain files decide by what the statements are.
		b.noTx = content && (f != GolangMigrate || len(b.stmts) == 1)
		if err == nil && f == Flyway {
			// Flyway's per-script configuration: V1__x.sql.conf.
			if _, serr := os.Lstat(path + ".conf"); serr == nil {
				conf, cerr := input.ReadFile(path + ".conf")
				if cerr != nil {
					return body{}, cerr
				}
				b.noTx = reFlywayConfNoTx.Match(conf)
			} else if !errors.Is(serr, os.ErrNotExist) {
				return body{}, plan.Errorf(path+".conf", 0, "cannot read: %v", unwrapPath(serr))
			}
		}
	}
	if err != nil {
		return body{}, err
	}
	b.phase, b.phaseLine, b.allows, err = header(path, lines, upLine)
	if err != nil {
		return body{}, err
	}
	// An empty or comment-only migration is a no-op step: real projects keep
	// them (a migration emptied for one dialect, a placeholder for a version).
	return b, nil
}

// header finds the -- straddle:phase directive and the -- straddle:allow
// exceptions in the leading comment block of the file or of its up section (the
// comment lines right after the up marker on line upLine). A directive anywhere
// else is an error, so a misplaced one is never silently ignored.
func header(path string, lines []string, upLine int) (plan.Phase, int, []plan.Allow, error) {
	seen := map[int]bool{}
	var (
		phase  plan.Phase
		at     int
		allows []plan.Allow
	)
	block := func(from int) error {
		inComment := false
		for i := from; i < len(lines); i++ {
			t := strings.TrimSpace(lines[i])
			switch {
			case inComment:
				inComment = !strings.Contains(t, "*/")
				continue
			case t == "" || strings.HasPrefix(t, "#"):
				continue
			case strings.HasPrefix(t, "/*"):
				inComment = !strings.Contains(t[2:], "*/")
				continue
			case !strings.HasPrefix(t, "--"):
				return nil
			}
			m := reDirective.FindStringSubmatch(t)
			if m == nil || seen[i] {
				continue
			}
			seen[i] = true
			if m[1] == "allow" {
				a, err := parseAllow(path, i+1, m[2])
				if err != nil {
					return err
				}
				allows = append(allows, a)
				continue
			}
			if m[1] != "phase" {
				return plan.Errorf(path, i+1, "unknown directive \"straddle:%s\" (want -- straddle:phase expand|migrate|contract|baseline or -- straddle:allow RULE: REASON)", m[1])
			}
			p, err := plan.ParsePhase(strings.TrimSpace(m[2]))
			if err != nil {
				return plan.Errorf(path, i+1, "%v", err)
			}
			if phase != "" && p != phase {
				return plan.Errorf(path, i+1, "phase %s contradicts the phase %s given on line %d", p, phase, at)
			}
			if phase == "" {
				phase, at = p, i+1
			}
		}
		return nil
	}
	if err := block(0); err != nil {
		return "", 0, nil, err
	}
	if upLine > 0 {
		if err := block(upLine); err != nil {
			return "", 0, nil, err
		}
	}
	for i, l := range lines {
		if !seen[i] && reDirective.MatchString(strings.TrimSpace(l)) {
			return "", 0, nil, plan.Errorf(path, i+1, "-- straddle: directives belong in the comment block at the top of the file (or of its up section), before any SQL")
		}
	}
	return phase, at, allows, nil
}

// parseAllow reads the rest of a "-- straddle:allow RULE: REASON" line: an
// exception to a phase rule for this step. The rule must be one of plan.Rules
// and the reason must say why the change is safe here, as Neutron asks of its
// expand-drop exceptions: an exception nobody can review is bad input.
func parseAllow(path string, line int, rest string) (plan.Allow, error) {
	id, reason, _ := strings.Cut(strings.TrimSpace(rest), ":")
	id, reason = strings.TrimSpace(id), strings.TrimSpace(reason)
	ids := plan.RuleIDs()
	if _, ok := plan.Rule(plan.RuleID(id)); !ok {
		hint := ""
		if near := input.Near(id, ids, 3); id != "" && len(near) > 0 {
			hint = fmt.Sprintf(" (did you mean %s?)", strings.Join(near, " or "))
		}
		what := fmt.Sprintf("unknown rule %q", id)
		if id == "" {
			what = "no rule named"
		}
		return plan.Allow{}, plan.Errorf(path, line, "-- straddle:allow: %s%s; write -- straddle:allow RULE: REASON with RULE one of %s", what, hint, strings.Join(ids, ", "))
	}
	if reason == "" {
		return plan.Allow{}, plan.Errorf(path, line, "-- straddle:allow %s has no reason; say why the change is safe here: -- straddle:allow %s: REASON", id, id)
	}
	return plan.Allow{Rule: plan.RuleID(id), Reason: reason, File: path, Line: line}, nil
}

// parseGoose reads the Up section of a goose file. Outside StatementBegin/End
// blocks the section is split like any SQL; each block is one statement.
func parseGoose(syn syntax, path string, lines []string) (stmts []Statement, noTx bool, upLine int, err error) {
	return parseSections(gooseTool, syn, path, lines)
}

// sectionTool is a tool whose files have Up and Down sections marked by
// comments: goose (-- +goose Up) and sql-migrate, which grew from goose
// (-- +migrate Up, -- +migrate Up notransaction).
type sectionTool struct {
	name   string         // "goose"
	mark   string         // "-- +goose"
	marker *regexp.Regexp // a marker line; its group 1 is the command
}

var (
	gooseTool      = sectionTool{"goose", "-- +goose", reGooseMarker}
	sqlMigrateTool = sectionTool{"sql-migrate", "-- +migrate", reSQLMigrateMarker}
)

// parseSections reads the Up section of a file of tool. Outside
// StatementBegin/End blocks the section is split like any SQL; each block is
// one statement.
func parseSections(tool sectionTool, syn syntax, path string, lines []string) (stmts []Statement, noTx bool, upLine int, err error) {
	const (
		before = iota
		up
		down
	)
	var (
		state      = before
		seg        strings.Builder // SQL outside blocks, not yet split
		segLine    int             // line of seg's first line
		inBlock    bool
		blockLine  int
		blockLines []string
	)
	flush := func() error {
		if seg.Len() == 0 {
			return nil
		}
		// goose wraps a file in a transaction unless -- +goose NO TRANSACTION
		// says otherwise, CONCURRENTLY or not: what the statements are does not
		// decide it.
		s, _, err := split(syn, path, seg.String(), segLine)
		seg.Reset()
		if err != nil {
			return err
		}
		if state == before && len(s) > 0 {
			return plan.Errorf(path, s[0].Line, "SQL before %s Up belongs to no section; move it below the Up annotation", tool.mark)
		}
		stmts = append(stmts, s...)
		return nil
	}
	for i, raw := range lines {
		n := i + 1
		t := strings.TrimRight(raw, " \t\r\n")
		m := tool.marker.FindStringSubmatch(t)
		if m == nil {
			switch {
			case state == down:
			case inBlock:
				blockLines = append(blockLines, raw)
			default:
				if seg.Len() == 0 {
					segLine = n
				}
				seg.WriteString(raw)
			}
			continue
		}
		cmd := strings.ToUpper(strings.Join(strings.Fields(m[1]), " "))
		switch {
		case cmd == "NO TRANSACTION" && tool.name == "goose":
			noTx = true
		case cmd == "UP NOTRANSACTION" && tool.name == "sql-migrate" && state == before:
			// sql-migrate's own switch, on the Up line.
			noTx = true
			if err := flush(); err != nil {
				return nil, false, 0, err
			}
			state, upLine = up, n
		case tool.name == "goose" && (cmd == "ENVSUB ON" || cmd == "ENVSUB OFF"):
			// goose substitutes ${VAR} from its environment; straddle sends the
			// text as written.
		case state == down:
			// The Down section is never applied; its annotations are goose's business.
		case cmd == "UP":
			if state != before {
				return nil, false, 0, plan.Errorf(path, n, "second "+tool.mark+" Up annotation (the first is on line %d)", upLine)
			}
			if err := flush(); err != nil {
				return nil, false, 0, err
			}
			state, upLine = up, n
		case cmd == "DOWN":
			if state == before {
				return nil, false, 0, plan.Errorf(path, n, "%s", tool.mark+" Down before "+tool.mark+" Up; the Up section comes first")
			}
			if inBlock {
				return nil, false, 0, plan.Errorf(path, blockLine, "%s", tool.mark+" StatementBegin has no matching "+tool.mark+" StatementEnd before "+tool.mark+" Down")
			}
			if err := flush(); err != nil {
				return nil, false, 0, err
			}
			state = down
		case cmd == "STATEMENTBEGIN":
			switch {
			case state != up:
				return nil, false, 0, plan.Errorf(path, n, "%s", tool.mark+" StatementBegin before "+tool.mark+" Up")
			case inBlock:
				return nil, false, 0, plan.Errorf(path, n, tool.mark+" StatementBegin inside the block opened on line %d; close it with "+tool.mark+" StatementEnd first", blockLine)
			}
			if err := flush(); err != nil {
				return nil, false, 0, err
			}
			inBlock, blockLine, blockLines = true, n, nil
		case cmd == "STATEMENTEND":
			if !inBlock {
				return nil, false, 0, plan.Errorf(path, n, "%s", tool.mark+" StatementEnd without "+tool.mark+" StatementBegin")
			}
			s, err := gooseBlock(syn, path, blockLine, blockLines)
			if err != nil {
				return nil, false, 0, err
			}
			if s != nil {
				stmts = append(stmts, *s)
			}
			inBlock = false
		default:
			return nil, false, 0, plan.Errorf(path, n, "unknown %s annotation %q (want %s)", tool.name, t, tool.wants())
		}
	}
	switch {
	case state == before:
		return nil, false, 0, plan.Errorf(path, 0, "%s", "no "+tool.mark+" Up annotation; "+tool.name+" migrations need one")
	case inBlock:
		return nil, false, 0, plan.Errorf(path, blockLine, "%s", tool.mark+" StatementBegin has no matching "+tool.mark+" StatementEnd")
	}
	if err := flush(); err != nil {
		return nil, false, 0, err
	}
	return stmts, noTx, upLine, nil
}

// wants lists the annotations of tool, for errors.
func (tool sectionTool) wants() string {
	if tool.name == "goose" {
		return "Up, Down, StatementBegin, StatementEnd, NO TRANSACTION, ENVSUB ON|OFF"
	}
	return "Up, Up notransaction, Down, StatementBegin, StatementEnd"
}

// gooseBlock makes the one statement of a StatementBegin block whose marker is
// on line begin. Leading and trailing comment lines and a final ';' are dropped,
// like the splitter does. The text is still lexed, so a quote left open inside
// is reported at its line.
func gooseBlock(syn syntax, path string, begin int, lines []string) (*Statement, error) {
	_, _, err := split(syn, path, strings.Join(lines, ""), begin+1)
	if err != nil {
		return nil, err
	}
	isText := func(l string) bool {
		t := strings.TrimSpace(l)
		return t != "" && !strings.HasPrefix(t, "--")
	}
	first, last := 0, len(lines)
	for first < last && !isText(lines[first]) {
		first++
	}
	for last > first && !isText(lines[last-1]) {
		last--
	}
	if first == last {
		return nil, nil
	}
	text := strings.TrimSpace(strings.Join(lines[first:last], ""))
	text = strings.TrimRightFunc(strings.TrimSuffix(text, ";"), func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	if text == "" { // a block of a lone ';': no statement
		return nil, nil
	}
	return &Statement{SQL: text, File: path, Line: begin + 1 + first}, nil
}

// parseDbmate reads the up section of a dbmate file.
func parseDbmate(syn syntax, path string, lines []string) (stmts []Statement, noTx bool, upLine int, err error) {
	upFrom, upTo := -1, len(lines) // line indexes of the up section's text
	for i, raw := range lines {
		m := reDbmateMarker.FindStringSubmatch(strings.TrimRight(raw, " \t\r\n"))
		if m == nil {
			continue
		}
		if m[1] == "down" {
			if upFrom < 0 {
				return nil, false, 0, plan.Errorf(path, i+1, "-- migrate:down before -- migrate:up; the up section comes first")
			}
			if upTo == len(lines) {
				upTo = i
			}
			continue
		}
		if upFrom >= 0 {
			return nil, false, 0, plan.Errorf(path, i+1, "second -- migrate:up (the first is on line %d)", upLine)
		}
		upFrom, upLine = i+1, i+1
		for _, opt := range strings.Fields(m[2]) {
			switch opt {
			case "transaction:false":
				noTx = true
			case "transaction:true":
			default:
				return nil, false, 0, plan.Errorf(path, i+1, "unknown dbmate option %q (want transaction:false or transaction:true)", opt)
			}
		}
	}
	if upFrom < 0 {
		return nil, false, 0, plan.Errorf(path, 0, "no -- migrate:up section; dbmate migrations need one")
	}
	pre, _, err := split(syn, path, strings.Join(lines[:upLine-1], ""), 1)
	if err != nil {
		return nil, false, 0, err
	}
	if len(pre) > 0 {
		return nil, false, 0, plan.Errorf(path, pre[0].Line, "SQL before -- migrate:up belongs to no section; move it below the up marker")
	}
	// dbmate runs the up section in a transaction unless transaction:false says
	// otherwise, whatever its statements are. Without one it still sends the
	// section in one call (Exec), which PostgreSQL runs as one implicit
	// transaction when it holds several statements: atomic, and CONCURRENTLY
	// among them fails with 25001 (dbmate issues #126, #182).
	stmts, _, err = split(syn, path, strings.Join(lines[upFrom:upTo], ""), upFrom+1)
	if err != nil {
		return nil, false, 0, err
	}
	return stmts, noTx && len(stmts) <= 1, upLine, nil
}

// unwrapPath drops the path an *fs.PathError repeats, since InputError names it.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
