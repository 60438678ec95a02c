package scenarios

import (
	"flag"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/fixture"
	"github.com/straddle-dev/straddle/harness/lockwatch"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/runner"
)

// loadCommands are the commands for traffic under load, stall thresholds and
// generated fixtures (docs/load.md).
func loadCommands() []Command {
	kinds := make([]string, len(fixture.Kinds))
	for i, k := range fixture.Kinds {
		kinds[i] = k.Syntax
	}
	return []Command{
		{Name: "traffic", Usage: "traffic [-clients N] [-rate PER_SECOND] [-duration D] [old|new]... | traffic off",
			Summary: fmt.Sprintf("Put the releases (default: both) in load mode from the next step on: N concurrent clients each (default %d) run the release's queries continuously through a before window of D (default %s), the whole step, and an after window of D, flat out or at PER_SECOND executions a second in all. off goes back to one pass at a time.", runner.DefaultClients, runner.DefaultDuration),
			Run:     cmdTraffic},
		{Name: "max-stall", Usage: "max-stall [-warn] DURATION|off",
			Summary: fmt.Sprintf("Set the stall threshold (default %s): a query that a step holds up this long beyond its slowest run outside steps, waiting for a lock the step holds or is queued for, is a stall, reported with the step's statement, the lock and its holder. A stall in a required cell is a violation (cell … violation stall); with -warn it is a warning (cell … info stall).", lockwatch.DefaultMaxStall),
			Run:     cmdMaxStall},
		{Name: "generate", Usage: "generate [-seed N] TABLE ROWS COLUMN=KIND...",
			Summary: "Fill TABLE with ROWS generated rows (1000, 50k, 1M) now, outside any step and without traffic, through COPY on PostgreSQL and LOAD DATA LOCAL on MySQL/MariaDB. Each COLUMN gets values of KIND, seeded: " + strings.Join(kinds, ", ") + "; a ?P suffix makes a fraction P NULL.",
			Run:     cmdGenerate},
	}
}

func cmdTraffic(s *Script, _ bool, args []string) error {
	var (
		clients  int
		rate     float64
		duration time.Duration
	)
	args, err := parseFlags("traffic", args, func(fs *flag.FlagSet) {
		fs.IntVar(&clients, "clients", 0, "")
		fs.Float64Var(&rate, "rate", 0, "")
		fs.DurationVar(&duration, "duration", 0, "")
	})
	if err != nil {
		return err
	}
	if clients < 0 || rate < 0 || duration < 0 {
		return badf("-clients, -rate and -duration must not be negative")
	}
	off := len(args) == 1 && args[0] == "off"
	rels := plan.Releases
	if len(args) > 0 && !off {
		rels = nil
		for _, a := range args {
			r, err := plan.ParseRelease(a)
			if err != nil {
				return badf("%v", err)
			}
			rels = append(rels, r)
		}
	}
	if s.dry {
		return nil
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	if off {
		sess.SetLoad(nil)
		return nil
	}
	load := maps.Clone(sess.Config().Load)
	if load == nil {
		load = map[plan.Release]runner.Load{}
	}
	for _, r := range rels {
		load[r] = runner.Load{Clients: clients, Rate: rate, Duration: duration}
	}
	sess.SetLoad(load)
	return nil
}

func cmdMaxStall(s *Script, _ bool, args []string) error {
	var warn bool
	args, err := parseFlags("max-stall", args, func(fs *flag.FlagSet) { fs.BoolVar(&warn, "warn", false, "") })
	if err != nil {
		return err
	}
	if err := nargs(args, 1, 1); err != nil {
		return err
	}
	d := time.Duration(-1)
	if args[0] != "off" {
		if d, err = time.ParseDuration(args[0]); err != nil || d <= 0 {
			return badf("duration %q: want a positive duration (500ms, 2s) or off", args[0])
		}
	}
	if s.dry {
		return nil
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	sess.SetMaxStall(d)
	s.policy.Stalls = plan.StallViolation
	if warn {
		s.policy.Stalls = plan.StallWarning
		s.notes = append(s.notes, "policy: stalls are warnings, not violations")
	}
	sess.SetPolicy(s.policy)
	return nil
}

func cmdGenerate(s *Script, _ bool, args []string) error {
	var seed uint64
	args, err := parseFlags("generate", args, func(fs *flag.FlagSet) {
		fs.Uint64Var(&seed, "seed", 1, "")
	})
	if err != nil {
		return err
	}
	if err := nargs(args, 3, -1); err != nil {
		return err
	}
	rows, err := parseRows(args[1])
	if err != nil {
		return err
	}
	t := fixture.Table{Name: args[0], Rows: rows, Seed: seed}
	for _, a := range args[2:] {
		c, err := fixture.ParseColumn(a)
		if err != nil {
			return badf("%v", err)
		}
		t.Columns = append(t.Columns, c)
	}
	if err := t.Validate(); err != nil {
		return badf("%v", err)
	}
	if s.dry {
		return nil
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	pool, err := sess.Database().Open(s.ctx())
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := fixture.Load(s.ctx(), pool, sess.Family(), t); err != nil {
		if de := engine.Classify(err); de != nil {
			return inputf("%s %s: %s: fix the table or the generators", de.Code, de.Class, de.Message)
		}
		return err
	}
	return nil
}

// parseRows reads a row count: 1000, 50k, 1M.
func parseRows(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1000, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "M"):
		mult, s = 1000000, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, badf("rows %q: want a count such as 1000, 50k or 1M", s)
	}
	return n * mult, nil
}
