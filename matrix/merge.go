package matrix

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// Digest identifies the matrix and its inputs: every cell id in matrix order (after
// filters, before sharding) and the content of every input file. Two reports are
// parts of the same matrix only when their digests are equal.
func (m *Matrix) Digest() (string, error) {
	h := sha256.New()
	for _, c := range m.Cells {
		fmt.Fprintf(h, "cell %d %s\n", c.Position, c.ID)
	}
	for _, in := range m.Inputs {
		var paths []string
		if in.File != "" {
			paths = append(paths, in.File)
		}
		if p := in.Project; p != nil {
			fmt.Fprintf(h, "project %s %q %q %q %q %q %q %v\n", p.Name, p.Migrations, p.Old, p.New, p.OldCmd, p.NewCmd, p.Baseline, p.NoDuring)
			for _, fam := range []string{"postgres", "mysql"} {
				for _, s := range []string{p.Migrations, p.Old, p.New} {
					if s != "" && !strings.HasPrefix(s, "git:") {
						paths = append(paths, strings.ReplaceAll(s, "{family}", fam))
					}
				}
			}
		}
		for _, p := range paths {
			if err := hashTree(h, p); err != nil {
				return "", err
			}
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// hashTree writes the names and contents of the files at path (a file, or a
// directory walked in lexical order) to h. A path that does not exist is skipped
// ({family} paths exist for some families only).
func hashTree(h io.Writer, path string) error {
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "file %s %d\n", filepath.ToSlash(p), len(data))
		_, err = h.Write(data)
		return err
	})
	if os.IsNotExist(err) {
		return nil
	}
	return err
}

// Part builds the matrix section of a report for cells (a shard, or the whole
// matrix as shard 1/1); statuses are filled in by the caller as cells run.
func (m *Matrix) Part(s Shard, cells []Cell) (*verdict.MatrixPart, error) {
	d, err := m.Digest()
	if err != nil {
		return nil, err
	}
	p := &verdict.MatrixPart{Digest: d, Shard: s.String(), Size: len(m.Cells), Cells: []verdict.MatrixCell{}}
	for _, c := range cells {
		p.Cells = append(p.Cells, verdict.MatrixCell{ID: c.ID, Position: c.Position})
	}
	return p, nil
}

// ReadReport decodes a JSON report (straddle run, straddle matrix run, or check
// --format json) read from the file name. Its errors are bad input at name:line
// (the line of the offending byte, where the decoder gives one).
func ReadReport(name string, data []byte) (*verdict.Result, error) {
	var r verdict.Result
	if err := json.Unmarshal(data, &r); err != nil {
		line := 0
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line = lineAt(data, se.Offset)
		case errors.As(err, &te):
			line = lineAt(data, te.Offset)
		}
		return nil, plan.Errorf(name, line, "not a JSON report: %v", err)
	}
	return &r, nil
}

// lineAt is the 1-based line of byte offset off in data.
func lineAt(data []byte, off int64) int {
	off = max(0, min(off, int64(len(data))))
	n := 1
	for _, b := range data[:off] {
		if b == '\n' {
			n++
		}
	}
	return n
}

// Merge joins the reports of a matrix's shards into the report of the whole
// matrix: the runs in matrix order, the violations recomputed in that order, the
// verdict of them all, and the matrix section of shard 1/1. The result is what a
// single unsharded run of the matrix reports. It refuses reports of different
// matrices or inputs, a report without a matrix section, a shard given twice or
// missing, and a cell in two reports.
func Merge(parts []*verdict.Result, names []string) (*verdict.Result, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: report merge: no reports", plan.ErrBadInput)
	}
	name := func(i int) string {
		if i < len(names) {
			return names[i]
		}
		return fmt.Sprintf("report %d", i+1)
	}
	type runAt struct {
		pos            int
		run            verdict.Run
		violations     []verdict.Violation
		workloadErrors []verdict.WorkloadError
		rules          []verdict.RuleHit
	}
	var (
		first    = parts[0].Matrix
		count    int
		shards   = map[int]string{}
		cellFrom = map[string]string{}
		cells    []verdict.MatrixCell
		runs     []runAt
	)
	for i, r := range parts {
		mp := r.Matrix
		if mp == nil {
			return nil, fmt.Errorf("%w: report merge: %s has no matrix section: write shard reports with straddle matrix run --format json", plan.ErrBadInput, name(i))
		}
		if first == nil || mp.Digest != first.Digest || mp.Size != first.Size {
			return nil, fmt.Errorf("%w: report merge: %s is a report of different inputs than %s (matrix %s, not %s): merge only the shards of one run", plan.ErrBadInput, name(i), name(0), short(mp.Digest), short(first.Digest))
		}
		sh, err := ParseShard(mp.Shard)
		if err != nil {
			return nil, fmt.Errorf("%w: report merge: %s: %v", plan.ErrBadInput, name(i), err)
		}
		if count == 0 {
			count = sh.Count
		}
		if sh.Count != count {
			return nil, fmt.Errorf("%w: report merge: %s is shard %s, %s is shard %s: the shards of one split have the same n", plan.ErrBadInput, name(i), mp.Shard, name(0), first.Shard)
		}
		if prev, dup := shards[sh.Index]; dup {
			return nil, fmt.Errorf("%w: report merge: shard %s is given twice (%s and %s)", plan.ErrBadInput, mp.Shard, prev, name(i))
		}
		shards[sh.Index] = name(i)
		// Runs are in the order of the report's cells; each cell has c.Runs of them.
		k, v := 0, 0
		for _, c := range mp.Cells {
			if prev, dup := cellFrom[c.ID]; dup {
				return nil, fmt.Errorf("%w: report merge: cell %s is in %s and %s", plan.ErrBadInput, c.ID, prev, name(i))
			}
			cellFrom[c.ID] = name(i)
			cells = append(cells, c)
			for range c.Runs {
				if k >= len(r.Runs) {
					return nil, fmt.Errorf("%w: report merge: %s lists more runs in its matrix section than it has", plan.ErrBadInput, name(i))
				}
				run := r.Runs[k]
				k++
				n := 0
				for v+n < len(r.Violations) && r.Violations[v+n].Scenario == run.Scenario && r.Violations[v+n].Engine == run.Engine {
					n++
				}
				var wes []verdict.WorkloadError
				for _, we := range r.WorkloadErrors {
					if we.Scenario == run.Scenario && we.Engine == run.Engine {
						wes = append(wes, we)
					}
				}
				var hits []verdict.RuleHit
				for _, h := range r.Rules {
					if h.Scenario == run.Scenario && h.Engine == run.Engine {
						hits = append(hits, h)
					}
				}
				runs = append(runs, runAt{c.Position, run, r.Violations[v : v+n], wes, hits})
				v += n
			}
		}
		if k != len(r.Runs) || v != len(r.Violations) {
			return nil, fmt.Errorf("%w: report merge: %s has runs or violations its matrix section does not account for", plan.ErrBadInput, name(i))
		}
	}
	var missing []string
	for s := 1; s <= count; s++ {
		if _, ok := shards[s]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", s, count))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: report merge: shard %s missing", plan.ErrBadInput, strings.Join(missing, ", "))
	}
	if len(cells) != first.Size {
		return nil, fmt.Errorf("%w: report merge: the reports cover %d of the matrix's %d cells", plan.ErrBadInput, len(cells), first.Size)
	}

	sort.SliceStable(cells, func(i, j int) bool { return cells[i].Position < cells[j].Position })
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].pos < runs[j].pos })
	out := &verdict.Result{Runs: []verdict.Run{}, Violations: []verdict.Violation{}}
	for _, r := range runs {
		out.Runs = append(out.Runs, r.run)
		out.Violations = append(out.Violations, r.violations...)
		out.WorkloadErrors = append(out.WorkloadErrors, r.workloadErrors...)
		out.Rules = append(out.Rules, r.rules...)
	}
	out.Verdict = VerdictOf(out)
	out.Matrix = &verdict.MatrixPart{Digest: first.Digest, Shard: "1/1", Size: first.Size, Cells: cells}
	return out, nil
}

func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// VerdictOf is the verdict of r's runs and violations, as verdict.Decide gives it:
// incompatible with a violation, else error when a run could not complete.
func VerdictOf(r *verdict.Result) verdict.Verdict {
	if len(r.Violations) > 0 {
		return verdict.Incompatible
	}
	if r.EnvFailure() {
		return verdict.EnvError
	}
	return verdict.Compatible
}
