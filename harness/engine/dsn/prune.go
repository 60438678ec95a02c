package dsn

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/scratch"
)

// Pruned is what Prune did with one scratch database it found on the server.
type Pruned struct {
	Name    string
	Removed bool
	// Why it was kept (Removed false): in use, too young, or of unknown age.
	Why string
}

// sessionsIn counts, per database, the sessions connected to it: a run alive holds
// sessions in its scratch databases.
var sessionsIn = map[engine.Family]string{
	engine.Postgres: `SELECT datname, count(*) FROM pg_stat_activity WHERE datname IS NOT NULL GROUP BY datname`,
	engine.MySQL:    `SELECT db, count(*) FROM information_schema.processlist WHERE db IS NOT NULL GROUP BY db`,
}

// Prune drops the scratch databases (engine.DatabasePrefix) that runs killed
// before their cleanup left on the server: those older than olderThan (by the
// creation time in their name, see scratch.NewName) with no session connected.
// all drops every scratch database, in use or not, whatever its age. It never
// touches another database. The result lists every scratch database found.
func (p *Provider) Prune(ctx context.Context, olderThan time.Duration, all bool) ([]Pruned, error) {
	where := scratch.Redact(p.url)
	srv, err := scratch.Connect(ctx, scratch.Config{Spec: engine.Spec{Flavor: p.flavor}, URL: p.url, Existing: true})
	if err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	defer srv.Stop(context.WithoutCancel(ctx))
	names, err := p.databases(ctx)
	if err != nil {
		return nil, err
	}
	inUse := map[string]int{}
	rows, err := srv.Admin().QueryContext(ctx, sessionsIn[p.family])
	if err != nil {
		return nil, fmt.Errorf("dsn: list sessions on %s: %w", where, scrub(err, p.url))
	}
	for rows.Next() {
		var db string
		var n int
		if err := rows.Scan(&db, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("dsn: list sessions on %s: %w", where, err)
		}
		inUse[db] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dsn: list sessions on %s: %w", where, scrub(err, p.url))
	}

	slices.Sort(names)
	var out []Pruned
	var errs []error
	for _, n := range names {
		if !strings.HasPrefix(n, engine.DatabasePrefix) {
			continue
		}
		r := Pruned{Name: n}
		born, known := scratch.NameTime(n)
		switch {
		case all:
		case inUse[n] > 0:
			r.Why = fmt.Sprintf("in use (%d sessions): a live run's", inUse[n])
		case !known:
			r.Why = "age unknown (named by an older straddle): --all removes it"
		case time.Since(born) < olderThan:
			r.Why = fmt.Sprintf("made %s ago, under --older-than %s", time.Since(born).Round(time.Second), olderThan)
		}
		if r.Why == "" {
			if err := srv.DropScratch(ctx, n); err != nil {
				errs = append(errs, err)
				r.Why = "drop failed"
			} else {
				r.Removed = true
			}
		}
		out = append(out, r)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("dsn: prune on %s: %w", where, errs[0])
	}
	return out, nil
}
