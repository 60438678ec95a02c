package migration

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/input"
	"github.com/straddle-dev/straddle/harness/plan"
)

// Step is one migration file of the new release, as applied in one go.
type Step struct {
	Version string // "0002", "1.1", "20240101120000"; the name itself for unnumbered plain files
	// Name is the step's boundary name: the file's base name without .up.sql or
	// .sql ("0002_rename_name").
	Name  string
	Phase plan.Phase
	File  string // path of the file, as found under the directory given to Load
	// Statements is empty for an empty or comment-only migration: a no-op step,
	// still a boundary of the rollout (listed in the report, nothing applied).
	Statements []Statement
	// NoTransaction is set by goose's -- +goose NO TRANSACTION, dbmate's
	// -- migrate:up transaction:false, Atlas's -- atlas:txmode none, Liquibase's
	// runInTransaction:false, popx's .autocommit., Flyway's
	// executeInTransaction=false — each tool's own switch, as the tool applies
	// the file —, and in Flyway, sqitch and plain files by a statement
	// PostgreSQL refuses inside a transaction block (… CONCURRENTLY, VACUUM,
	// CREATE DATABASE …), which those decide by. The runner then applies the
	// statements one by one. Without it, a goose, dbmate, Atlas, Liquibase or
	// golang-migrate file with CREATE INDEX CONCURRENTLY among several
	// statements fails as the tool would make it fail (25001).
	NoTransaction bool
	// Allows are the step's exceptions to phase rules: "-- straddle:allow RULE:
	// REASON" lines of the file's header (see plan.Rules).
	Allows []plan.Allow
	// Apply, when set, applies the step instead of Statements (a project's own
	// migration command, package command). An error it returns that is a
	// *engine.DBError or *ApplyError is a finding; any other error is an
	// environment failure.
	Apply func(ctx context.Context) error
}

// ApplyError is a step that failed to apply for a reason other than a server
// error (an external migration command exiting non-zero).
type ApplyError struct {
	Message string
	Output  string
}

func (e *ApplyError) Error() string { return e.Message }

// Options controls Load. The zero value detects the format and applies the
// default phase rules.
type Options struct {
	// Format forces a format; "" detects it.
	Format Format
	// Baseline, when set, is a version (or step name) of the directory: that
	// migration and every one before it in version order are the baseline, and
	// untagged migrations after it are expand (--baseline VERSION).
	Baseline string
	// Family selects the lexical rules of one family for splitting statements;
	// "" uses rules that suit both (see SplitFor).
	Family engine.Family
}

// Set is a migrations directory read into steps.
type Set struct {
	Dir    string
	Format Format
	// Steps are in apply order: baseline…, expand…, migrate…, contract….
	Steps []Step
}

// Refs returns the (name, phase) of every step in apply order, the input of
// plan.NewRollout.
func (s *Set) Refs() []plan.StepRef {
	refs := make([]plan.StepRef, len(s.Steps))
	for i, st := range s.Steps {
		refs[i] = plan.StepRef{Name: st.Name, Phase: st.Phase}
	}
	return refs
}

// phaseDirs are the subdirectories that give their files a phase.
var phaseDirs = map[string]plan.Phase{
	"baseline": plan.Baseline,
	"expand":   plan.Expand,
	"migrate":  plan.Migrate,
	"contract": plan.Contract,
}

// file is one candidate migration file found under the directory.
type file struct {
	path     string
	base     string
	dirPhase plan.Phase // from its subdirectory; "" at the top level
	src      string
}

// candidate is a migration file with its name and body parsed.
type candidate struct {
	step     Step
	dirPhase plan.Phase
	head     plan.Phase
	headLine int
	sortKey  string // what version order compares: the version, or the name for plain
}

// Load reads the migrations directory dir into steps in apply order.
//
// The format is detected from the file names and markers unless opts.Format
// forces one; a directory that matches no format, or mixes two, is an error. Each
// migration's phase comes from, first match winning: a "-- straddle:phase P"
// header in the file's leading comment block; the phase subdirectory it is in
// (baseline/, expand/, migrate/, contract/); opts.Baseline. Without any of them a
// migration is expand: it may run while the old release is live, which is the
// conservative assumption.
//
// Order: with phase subdirectories, steps go phase by phase, by version within a
// phase, and every migration must get its phase from a subdirectory, a header, or
// opts.Baseline. Without them, steps go in version order and their phases must
// not go backwards.
//
// Every error about the directory's content is an *plan.InputError naming the
// file (and line, where there is one) and what to do.
func Load(dir string, opts Options) (*Set, error) {
	if opts.Format != "" {
		if _, err := ParseFormat(string(opts.Format)); err != nil {
			return nil, err
		}
	}
	syn := syntaxOf(opts.Family)
	if opts.Format == Sqitch || opts.Format == "" && exists(filepath.Join(dir, sqitchPlan)) {
		cands, err := loadSqitch(dir, syn)
		if err != nil {
			return nil, err
		}
		steps, err := order(dir, Sqitch, cands, false, opts.Baseline)
		if err != nil {
			return nil, err
		}
		return &Set{Dir: dir, Format: Sqitch, Steps: steps}, nil
	}
	files, goFiles, phased, err := collect(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, plan.Errorf(dir, 0, "no migration files (*.sql) here or in its baseline/, expand/, migrate/ or contract/ subdirectories (formats: %s)", formatList())
	}
	format := opts.Format
	summed := exists(filepath.Join(dir, atlasSum))
	if format == "" && summed {
		// Atlas writes golang-migrate directories too (atlas migrate diff
		// --dir-format golang-migrate; ent projects): their atlas.sum lists
		// the up files only.
		format = Atlas
		if d, err := detect(dir, files); err == nil && d == GolangMigrate && sumListsUpFilesOnly(dir) {
			format = GolangMigrate
		}
	}
	if format == "" {
		if format, err = detect(dir, files); err != nil {
			return nil, err
		}
	}
	switch {
	case format == Atlas:
		if err := checkAtlasSum(dir, files); err != nil {
			return nil, err
		}
		files = fromLastCheckpoint(files)
	case format == GolangMigrate && summed:
		var ups []file
		for _, f := range files {
			if strings.HasSuffix(f.path, ".up.sql") {
				ups = append(ups, f)
			}
		}
		if err := checkAtlasSum(dir, ups); err != nil {
			return nil, err
		}
	}
	if format == Goose && len(goFiles) > 0 {
		return nil, plan.Errorf(goFiles[0], 0, "goose Go migrations are not supported; straddle applies SQL migrations only")
	}
	var cands []candidate
	popx := map[int]popxFile{} // index in cands → its popx name
	seq := 0                   // Liquibase changesets so far
	for _, f := range files {
		if format == Liquibase {
			cs, err := loadLiquibase(f.path, f.src, syn, opts.Family, &seq)
			if err != nil {
				return nil, err
			}
			for i := range cs {
				cs[i].dirPhase = f.dirPhase
			}
			cands = append(cands, cs...)
			continue
		}
		version, name, skip, err := nameOf(format, f.path, f.base)
		if err != nil {
			return nil, err
		}
		if skip {
			continue
		}
		b, err := parseBody(format, syn, f.path, f.src)
		if err != nil {
			return nil, err
		}
		if format == GolangMigrate {
			if p, ok := parsePopx(f.base); ok {
				name = p.name
				b.noTx = b.noTx || p.autocommit
				popx[len(cands)] = p
			}
		}
		if format == Atlas {
			noTx, err := atlasTxMode(f.path, f.src)
			if err != nil {
				return nil, err
			}
			b.noTx = b.noTx || noTx
		}
		key := version
		if format == Plain || format == SQLMigrate {
			key = f.base
		}
		cands = append(cands, candidate{
			step:     Step{Version: version, Name: name, File: f.path, Statements: b.stmts, NoTransaction: b.noTx, Allows: b.allows},
			dirPhase: f.dirPhase,
			head:     b.phase,
			headLine: b.phaseLine,
			sortKey:  key,
		})
	}
	cands = pickPopx(cands, popx, opts.Family)
	if len(cands) == 0 {
		return nil, plan.Errorf(dir, 0, "no migrations to apply: every %s file here is a down or undo migration, or for another database", format)
	}
	steps, err := order(dir, format, cands, phased, opts.Baseline)
	if err != nil {
		return nil, err
	}
	return &Set{Dir: dir, Format: format, Steps: steps}, nil
}

// collect lists the .sql files of dir and of its phase subdirectories, sorted by
// path, and the goose-style Go migrations among the other files. A subdirectory
// that is not a phase directory but holds .sql files is an error: its migrations
// would otherwise be silently skipped (a typo such as "contracts/").
func collect(dir string) (files []file, goFiles []string, phased bool, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, false, plan.Errorf(dir, 0, "cannot read the migrations directory: %v", unwrapPath(err))
	}
	var read func(sub string, phase plan.Phase, entries []fs.DirEntry) error
	read = func(sub string, phase plan.Phase, entries []fs.DirEntry) error {
		for _, e := range entries {
			name := e.Name()
			path := filepath.Join(dir, sub, name)
			if strings.HasPrefix(name, ".") {
				continue
			}
			isDir, err := isDir(path, e)
			if err != nil {
				return err
			}
			if isDir {
				if p, ok := phaseDirs[name]; ok && sub == "" {
					phased = true
					sube, err := os.ReadDir(path)
					if err != nil {
						return plan.Errorf(path, 0, "cannot read: %v", unwrapPath(err))
					}
					if err := read(name, p, sube); err != nil {
						return err
					}
					continue
				}
				if hasSQL(path) {
					return plan.Errorf(path, 0, "subdirectory holds .sql files but is not a phase directory; straddle reads %s and its baseline/, expand/, migrate/ and contract/ subdirectories only: move the files or rename the directory", dir)
				}
				continue
			}
			switch {
			case strings.HasSuffix(name, ".sql"):
				src, err := input.ReadFile(path)
				if err != nil {
					return err
				}
				files = append(files, file{path: path, base: name, dirPhase: phase, src: string(src)})
			case reGooseGo.MatchString(name) && !strings.HasSuffix(name, "_test.go"):
				goFiles = append(goFiles, path)
			}
		}
		return nil
	}
	if err := read("", "", entries); err != nil {
		return nil, nil, false, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return files, goFiles, phased, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func isDir(path string, e fs.DirEntry) (bool, error) {
	if e.Type()&fs.ModeSymlink == 0 {
		return e.IsDir(), nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return false, plan.Errorf(path, 0, "cannot read: %v", unwrapPath(err))
	}
	return fi.IsDir(), nil
}

func hasSQL(dir string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
			return true
		}
	}
	return false
}

// detect finds the one format every file of the directory follows.
func detect(dir string, files []file) (Format, error) {
	first := map[Format]string{} // a file of each format seen
	var plain string
	for _, f := range files {
		k, err := classify(f.path, f.base, f.src)
		if err != nil {
			return "", err
		}
		if k == Plain {
			if plain == "" {
				plain = f.path
			}
			continue
		}
		if _, ok := first[k]; !ok {
			first[k] = f.path
		}
	}
	var kinds []Format
	for _, k := range Formats {
		if _, ok := first[k]; ok {
			kinds = append(kinds, k)
		}
	}
	switch {
	case len(kinds) == 0:
		return Plain, nil
	case len(kinds) > 1:
		return "", plan.Errorf(dir, 0, "mixes migration formats: %s is %s but %s is %s; keep one format per directory", first[kinds[0]], kinds[0], first[kinds[1]], kinds[1])
	case plain != "":
		return "", plan.Errorf(plain, 0, "not a %s migration, but %s is; %s", kinds[0], first[kinds[0]], wants[kinds[0]])
	}
	return kinds[0], nil
}

// order assigns phases and returns the steps in apply order.
func order(dir string, format Format, cands []candidate, phased bool, baseline string) ([]Step, error) {
	cmp := func(a, b candidate) int {
		if format == Plain || format == SQLMigrate {
			// sql-migrate orders by the number a name starts with, then by
			// the name: natural order.
			return compareNatural(a.sortKey, b.sortKey)
		}
		if c := compareVersions(a.sortKey, b.sortKey); c != 0 {
			return c
		}
		return strings.Compare(a.step.File, b.step.File)
	}
	sort.SliceStable(cands, func(i, j int) bool { return cmp(cands[i], cands[j]) < 0 })

	seen := map[string]string{}
	for _, c := range cands {
		k := normVersion(c.step.Version)
		if other, ok := seen[k]; ok {
			return nil, plan.Errorf(c.step.File, 0, "duplicate version %s: %s has it too; every migration needs its own version", c.step.Version, other)
		}
		seen[k] = c.step.File
	}

	last := -1 // index of the baseline migration in version order
	if baseline != "" {
		for i, c := range cands {
			if matchVersion(c.step, baseline) {
				last = i
			}
		}
		if last < 0 {
			return nil, plan.Errorf(dir, 0, "--baseline %s matches no migration (versions run from %s to %s)", baseline, cands[0].step.Version, cands[len(cands)-1].step.Version)
		}
	}

	for i := range cands {
		c := &cands[i]
		switch {
		case c.head != "" && c.dirPhase != "" && c.head != c.dirPhase:
			return nil, plan.Errorf(c.step.File, c.headLine, "phase header says %s but the file is in %s/; remove the header or move the file", c.head, c.dirPhase)
		case c.head != "":
			c.step.Phase = c.head
		case c.dirPhase != "":
			c.step.Phase = c.dirPhase
		case last >= 0 && i <= last:
			c.step.Phase = plan.Baseline
		case phased:
			dirs := phaseDirList(cands)
			return nil, plan.Errorf(c.step.File, 0, "migration outside the phase subdirectories (%s) has no phase: move it into one of them or give it a -- straddle:phase header", dirs)
		default:
			c.step.Phase = plan.Expand
		}
	}

	if phased {
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].step.Phase.Order() < cands[j].step.Phase.Order() })
	} else {
		top := 0
		for i, c := range cands {
			if c.step.Phase.Order() < cands[top].step.Phase.Order() {
				t := cands[top].step
				return nil, plan.Errorf(c.step.File, c.headLine, "phase %s comes after %s (%s, %s) in version order; without phase subdirectories steps apply in version order and phases must not go backwards (baseline, expand, migrate, contract): renumber the migration, fix its phase, or use phase subdirectories", c.step.Phase, t.Name, t.Phase, phaseSource(cands[top]))
			}
			if c.step.Phase.Order() > cands[top].step.Phase.Order() {
				top = i
			}
		}
	}
	steps := make([]Step, len(cands))
	for i, c := range cands {
		steps[i] = c.step
	}
	return steps, nil
}

// phaseSource says where a candidate's phase came from, for error messages.
func phaseSource(c candidate) string {
	switch {
	case c.head != "":
		return fmt.Sprintf("from its header on line %d", c.headLine)
	case c.dirPhase != "":
		return "from its subdirectory"
	case c.step.Phase == plan.Baseline:
		return "from --baseline"
	}
	return "by default"
}

func phaseDirList(cands []candidate) string {
	var dirs []string
	for _, p := range plan.Phases {
		for _, c := range cands {
			if c.dirPhase == p {
				dirs = append(dirs, string(p)+"/")
				break
			}
		}
	}
	return strings.Join(dirs, ", ")
}

// matchVersion reports whether v names step s: its version (numerically, so
// "2" matches "0002"), its name, or its file name.
func matchVersion(s Step, v string) bool {
	if v == s.Version || v == s.Name || v == filepath.Base(s.File) {
		return true
	}
	return numeric(v) && numeric(s.Version) && normVersion(v) == normVersion(s.Version)
}

// LoadFile reads one migration file as one step of the given phase (scenario
// scripts apply files one at a time). It honours the in-file markers of goose
// and dbmate files and the -- straddle:phase header: with phase "", the header
// decides and expand is the default; otherwise a header naming another phase is
// an error. Statements are split with rules that suit both families.
func LoadFile(path string, phase plan.Phase) (Step, error) {
	if phase != "" && phase.Order() < 0 {
		return Step{}, fmt.Errorf("%w: %s: unknown phase %q (want baseline, expand, migrate or contract)", plan.ErrBadInput, path, phase)
	}
	src, err := input.ReadFile(path)
	if err != nil {
		return Step{}, err
	}
	format, err := markers(path, string(src))
	if err != nil {
		return Step{}, err
	}
	b, err := parseBody(format, syntaxOf(""), path, string(src))
	if err != nil {
		return Step{}, err
	}
	switch {
	case b.phase != "" && phase != "" && b.phase != phase:
		return Step{}, plan.Errorf(path, b.phaseLine, "phase header says %s but the file is applied as %s; remove the header or change one of them", b.phase, phase)
	case phase == "" && b.phase != "":
		phase = b.phase
	case phase == "":
		phase = plan.Expand
	}
	version, name := looseName(filepath.Base(path))
	return Step{Version: version, Name: name, Phase: phase, File: path, Statements: b.stmts, NoTransaction: b.noTx, Allows: b.allows}, nil
}

// sumListsUpFilesOnly reports whether dir's atlas.sum lists files and all of
// them are golang-migrate up files (NAME.up.sql): what atlas migrate writes
// for --dir-format golang-migrate. An Atlas directory may hold a file named
// 1_initial.down.sql; its sum lists it.
func sumListsUpFilesOnly(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, atlasSum))
	if err != nil {
		return false
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return false
	}
	for _, l := range lines[1:] {
		name, _, _ := strings.Cut(strings.TrimSpace(l), " ")
		if !strings.HasSuffix(name, ".up.sql") {
			return false
		}
	}
	return true
}
