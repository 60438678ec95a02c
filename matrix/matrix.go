package matrix

import (
	"fmt"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
)

// Kind says what an input is.
type Kind string

const (
	KindScenario Kind = "scenario" // a scenario script (.txtar), run by `straddle run`
	KindCheck    Kind = "check"    // a project, checked by `straddle check`
)

// Project is the inputs of one `straddle check`: the flags it would be given.
// {family} in a path is replaced by each engine's family, as check does.
type Project struct {
	Name       string `yaml:"name"`
	Migrations string `yaml:"migrations"`
	Old        string `yaml:"old"`
	New        string `yaml:"new"`
	OldCmd     string `yaml:"old-cmd"`
	NewCmd     string `yaml:"new-cmd"`
	Baseline   string `yaml:"baseline"`
	// NoDuring runs the workloads only between steps (check --no-during): the
	// report is then the same from run to run.
	NoDuring bool `yaml:"no-during"`
	// Cost is the measured or estimated seconds one engine takes; 0 means estimate.
	Cost float64 `yaml:"cost"`
}

// Input is one thing run on every engine of the matrix.
type Input struct {
	Kind Kind
	// Name is unique among the inputs of a kind: the scenario's script name, or the
	// project's name.
	Name    string
	File    string   // the script, for KindScenario
	Project *Project // for KindCheck
	// Weight is the relative cost of the input on one engine, in estimated seconds.
	Weight float64
}

// Cell is one input on one engine: the unit that is run, filtered and sharded.
type Cell struct {
	ID     string
	Input  *Input
	Engine engine.Spec
	// Position is the cell's index in the whole matrix (input order, then engine
	// order), before filters: reports of shards are put back in this order.
	Position int
	Cost     float64
}

// CellID is the stable id of input on spec: kind/name@engine.
func CellID(in *Input, spec engine.Spec) string {
	return string(in.Kind) + "/" + in.Name + "@" + spec.String()
}

// Matrix is a complete, expanded matrix. It is read-only once built.
type Matrix struct {
	Engines []engine.Spec
	Inputs  []*Input
	// Cells are in input order, then engine order, after Only and Skip.
	Cells []Cell
}

// Config is everything a matrix is built from.
type Config struct {
	Engines []engine.Spec
	Inputs  []*Input
	// Only keeps the cells some pattern matches; Skip drops the cells some pattern
	// matches (see Match).
	Only, Skip []string
	// Costs are measured seconds per cell, by pattern (see Match); the first pattern
	// that matches a cell wins over the estimate.
	Costs []Cost
}

// Cost is a measured cost for the cells a pattern matches.
type Cost struct {
	Pattern string
	Seconds float64
}

// engineFactor scales an input's weight per flavor: DDL and server start are
// slower on MySQL and MariaDB (measured with `straddle run` on the cookbook).
var engineFactor = map[engine.Flavor]float64{
	engine.FlavorPostgres: 1.0,
	engine.FlavorMariaDB:  1.5,
	engine.FlavorMySQL:    1.5,
}

// New expands cfg into its cells. Inputs whose kind and name repeat, or engines
// that repeat, are bad input.
func New(cfg Config) (*Matrix, error) {
	if len(cfg.Engines) == 0 {
		return nil, fmt.Errorf("%w: matrix: no engine", plan.ErrBadInput)
	}
	if len(cfg.Inputs) == 0 {
		return nil, fmt.Errorf("%w: matrix: no input (give scenario scripts or projects)", plan.ErrBadInput)
	}
	seen := map[string]bool{}
	for _, sp := range cfg.Engines {
		if seen[sp.String()] {
			return nil, fmt.Errorf("%w: matrix: engine %s is given twice", plan.ErrBadInput, sp)
		}
		seen[sp.String()] = true
	}
	for _, in := range cfg.Inputs {
		key := string(in.Kind) + "/" + in.Name
		if seen[key] {
			return nil, fmt.Errorf("%w: matrix: two inputs are named %s (names give cells their ids; rename one)", plan.ErrBadInput, key)
		}
		seen[key] = true
	}
	only, err := compileAll(cfg.Only, "--only")
	if err != nil {
		return nil, err
	}
	skip, err := compileAll(cfg.Skip, "--skip")
	if err != nil {
		return nil, err
	}
	costs := make([]pattern, len(cfg.Costs))
	for i, c := range cfg.Costs {
		p, err := compile(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("%w: matrix: costs: %v", plan.ErrBadInput, err)
		}
		costs[i] = p
	}
	m := &Matrix{Engines: cfg.Engines, Inputs: cfg.Inputs}
	pos := 0
	for _, in := range cfg.Inputs {
		for _, sp := range cfg.Engines {
			c := Cell{ID: CellID(in, sp), Input: in, Engine: sp, Position: pos}
			pos++
			if len(only) > 0 && !anyMatch(only, c) || anyMatch(skip, c) {
				continue
			}
			c.Cost = in.Weight * engineFactor[sp.Flavor]
			for i, p := range costs {
				if p.match(c) {
					c.Cost = cfg.Costs[i].Seconds
					break
				}
			}
			m.Cells = append(m.Cells, c)
		}
	}
	if len(m.Cells) == 0 {
		return nil, fmt.Errorf("%w: matrix: --only and --skip leave none of the %d cells", plan.ErrBadInput, pos)
	}
	return m, nil
}

// Size is the number of cells of the matrix before filters.
func (m *Matrix) Size() int { return len(m.Inputs) * len(m.Engines) }

// TotalCost is the total estimated cost of cells.
func TotalCost(cells []Cell) float64 {
	t := 0.0
	for _, c := range cells {
		t += c.Cost
	}
	return t
}

// EnginesOf lists the distinct engines of cells, in the matrix's engine order.
func (m *Matrix) EnginesOf(cells []Cell) []engine.Spec {
	has := map[string]bool{}
	for _, c := range cells {
		has[c.Engine.String()] = true
	}
	var out []engine.Spec
	for _, sp := range m.Engines {
		if has[sp.String()] {
			out = append(out, sp)
		}
	}
	return out
}

// ParseEngines parses --engine values once, at the edge; its errors wrap
// engine.ErrBadSpec. A value is a list
// separated by commas; a bare version continues the flavor before it, so
// "postgres:13,15,17" is three engines and "postgres,mariadb:10.5,10.11" three.
func ParseEngines(values []string) ([]engine.Spec, error) {
	var out []engine.Spec
	seen := map[string]bool{}
	var last *engine.Spec // a bare version continues it, across values too (YAML flow lists)
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			text := part
			if last != nil && isVersion(part) {
				text = string(last.Flavor) + ":" + part
			}
			sp, err := engine.ParseSpec(text)
			if err != nil {
				return nil, fmt.Errorf("--engine %s: %w", v, err)
			}
			last = &sp
			if !seen[sp.String()] {
				seen[sp.String()] = true
				out = append(out, sp)
			}
		}
	}
	return out, nil
}

func isVersion(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}
