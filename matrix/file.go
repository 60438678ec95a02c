package matrix

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/straddle-dev/straddle/harness/plan"
)

// File is a matrix file as written in a repository (YAML):
//
//	engines: [postgres:13,15,17,18, mariadb:10.5,10.11,11.8]
//	scenarios: [scenarios/]            # scripts or directories of them
//	projects:                          # straddle check inputs
//	  - name: app
//	    migrations: db/migrations
//	    old: git:v1.4.0:db/queries
//	    new: db/queries
//	only: []                           # patterns, as --only
//	skip: [scenario/stale_*@mariadb]   # patterns, as --skip
//	costs:                             # measured seconds per cell, first match wins
//	  scenario/load_*: 20
//
// Paths are relative to the file's directory; $VAR and ${VAR} in them are
// replaced by the environment's values (a CI workspace, a checkout directory).
type File struct {
	Engines   []string  `yaml:"engines"`
	Scenarios []string  `yaml:"scenarios"`
	Projects  []Project `yaml:"projects"`
	Only      []string  `yaml:"only"`
	Skip      []string  `yaml:"skip"`
	Costs     yaml.Node `yaml:"costs"`
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// Load reads and validates a matrix file. Relative paths in it are made relative
// to the current directory (they are written relative to the file). Unknown keys
// are errors, at their line.
func Load(path string) (*File, []Cost, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: matrix file: %v", plan.ErrBadInput, err)
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) /* an empty file: flags fill the matrix */ {
		line := 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		msg := strings.TrimPrefix(strings.ReplaceAll(err.Error(), "\n", " "), "yaml: ")
		return nil, nil, plan.Errorf(path, line, "matrix file: %s", msg)
	}
	var costs []Cost
	if f.Costs.Kind != 0 {
		if f.Costs.Kind != yaml.MappingNode {
			return nil, nil, plan.Errorf(path, f.Costs.Line, "matrix file: costs: want a mapping of pattern: seconds")
		}
		for i := 0; i+1 < len(f.Costs.Content); i += 2 {
			k, v := f.Costs.Content[i], f.Costs.Content[i+1]
			secs, err := strconv.ParseFloat(v.Value, 64)
			if err != nil || secs < 0 {
				return nil, nil, plan.Errorf(path, v.Line, "matrix file: costs: %s: %q is not a number of seconds", k.Value, v.Value)
			}
			costs = append(costs, Cost{Pattern: k.Value, Seconds: secs})
		}
	}
	dir := filepath.Dir(path)
	rel := func(p string) string {
		p = os.ExpandEnv(p)
		if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, "git:") {
			return p
		}
		return filepath.Join(dir, p)
	}
	for i := range f.Scenarios {
		f.Scenarios[i] = rel(f.Scenarios[i])
	}
	for i := range f.Projects {
		p := &f.Projects[i]
		if p.Name == "" || p.Migrations == "" {
			return nil, nil, plan.Errorf(path, 0, "matrix file: projects[%d]: name and migrations are required", i)
		}
		p.Migrations, p.Old, p.New = rel(p.Migrations), rel(p.Old), rel(p.New)
	}
	return &f, costs, nil
}

// ScenarioInput is the input for a scenario script, named as testscript names it
// (the file's base name without .txtar), weighted by its commands.
func ScenarioInput(file string) (*Input, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", plan.ErrBadInput, err)
	}
	name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), ".txtar"), ".txt")
	return &Input{Kind: KindScenario, Name: name, File: file, Weight: scriptWeight(data)}, nil
}

// ScenarioInputs is the ScenarioInput of each file, in order.
func ScenarioInputs(files []string) ([]*Input, error) {
	out := make([]*Input, 0, len(files))
	for _, f := range files {
		in, err := ScenarioInput(f)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// scriptWeight estimates a script's seconds on PostgreSQL: a base for the scratch
// database and one tenth per command line; traffic runs for its duration per
// step, so a script with traffic counts double.
func scriptWeight(data []byte) float64 {
	w := 1.0
	traffic := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "-- ") && strings.HasSuffix(l, " --") {
			break // the archive's files
		}
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		w += 0.1
		traffic = traffic || strings.HasPrefix(l, "traffic ") || strings.HasPrefix(l, "generate ")
	}
	if traffic {
		w *= 2
	}
	return w
}

// ProjectInput is the input for a check project, weighted by its number of
// migration files unless the project states its cost.
func ProjectInput(p Project) *Input {
	w := p.Cost
	if w == 0 {
		w = 2
		dir := strings.ReplaceAll(p.Migrations, "{family}", "postgres")
		_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				w += 0.5
			}
			return nil
		})
	}
	pp := p
	return &Input{Kind: KindCheck, Name: p.Name, Project: &pp, Weight: w}
}
