package lockwatch

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/traffic"
)

// Interval is how often the Monitor polls the server while a step runs.
const Interval = 50 * time.Millisecond

// Monitor polls the server's activity and lock views while a step runs, on a
// connection of its own, and remembers for each release's query (recognized by its
// traffic.Tag) the last lock wait it saw: what lock, and who held it — the
// migration connection (whose current statement the runner knows), another
// release's session, or anyone else. Stall events take their holder from it.
//
// It reads only; its queries come from the dialect (engine.LockMonitor). Methods
// other than watch and close are safe for concurrent use; mu protects seen.
type Monitor struct {
	conn      *sql.Conn
	lm        engine.LockMonitor
	migration int64  // the migration connection's server id; 0 when unknown
	activity  string // the activity query the server accepted; "" disables the monitor
	edges     []string

	mu    sync.Mutex
	seen  map[waitKey]lockWait
	polls int // successful polls during the current step
	fails int // polls during the current step whose activity query failed
	// behind is whom the migration was last seen waiting for during the current
	// step (nil if never): a query seen queued behind the migration in a poll
	// that caught the migration between two views gets it from here.
	behind *party

	stop chan struct{}
	done chan struct{}
}

type waitKey struct {
	rel   plan.Release
	query string
}

// session is one row of the activity view.
type session struct {
	id      int64
	ms      float64 // since its transaction or statement began
	waiting bool
	wait    string
	query   string
}

// party is a session in a lock wait, as a report names it.
type party struct {
	id        int64
	migration bool
	release   plan.Release
	query     string // query name for a release's session
	sql       string // its statement, tag stripped
}

// lockWait is one observation: a release's query waiting for lock, held by holder
// (who may itself wait for behind).
type lockWait struct {
	lock      string
	exact     bool // lock and holder come from a lock view, not from guesswork
	holder    party
	behind    *party
	relation  string // the relation the lock is on, as LockMonitor.OwnLocks names it
	statement int    // the step's statement running when the migration was seen holding
	// held is when the query was last seen waiting for the migration (directly,
	// or queued behind it); zero if never.
	held time.Time
}

// score ranks observations by what they tell: the migration holding the lock
// (what a step's report is about), a chain to the session it waits for itself, a
// lock named by a lock view rather than guessed.
func (w lockWait) score() int {
	n := 0
	if w.holder.migration {
		n += 4
	}
	if w.behind != nil {
		n += 2
	}
	if w.exact {
		n++
	}
	return n
}

// Open opens the monitor's connection and finds which of the dialect's
// queries the server accepts. It returns nil (no monitor, stalls still detected
// by latency) when the dialect has none or the server accepts none.
func Open(ctx context.Context, pool *sql.DB, lm engine.LockMonitor, migration int64, views bool) *Monitor {
	if len(lm.Activity) == 0 {
		return nil
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil
	}
	if views {
		for _, q := range lm.LockViews {
			_, _ = conn.ExecContext(ctx, q) // better views if allowed; fine without
		}
	}
	m := &Monitor{conn: conn, lm: lm, migration: migration}
	for _, q := range lm.Activity {
		if _, err := m.sessions(ctx, q); err == nil {
			m.activity = q
			break
		}
	}
	if m.activity == "" {
		conn.Close()
		return nil
	}
	m.edges = append([]string(nil), lm.LockWaits...)
	return m
}

// Watch starts polling until the returned function is called; that function
// waits for the poller to finish.
func (m *Monitor) Watch(ctx context.Context, prog *Progress) (stop func()) {
	if m == nil {
		return func() {}
	}
	m.mu.Lock()
	m.seen, m.polls, m.fails, m.behind = map[waitKey]lockWait{}, 0, 0, nil
	m.mu.Unlock()
	halt, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(Interval)
		defer t.Stop()
		for {
			m.poll(ctx, prog)
			select {
			case <-halt:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(halt); <-done }
}

// lookup returns the most telling wait seen for a release's query during the
// current step. blind is true when the Monitor cannot vouch either way (there is
// none, or its polls failed this step and none worked): stalls are then judged by
// latency alone. A Monitor none of whose polls even finished was starved by a
// busy machine, not blind: a query it never saw waiting is no stall (a long
// latency with no evidence of a lock is the machine's, not a finding).
func (m *Monitor) lookup(rel plan.Release, query string) (w lockWait, ok, blind bool) {
	if m == nil {
		return lockWait{}, false, true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok = m.seen[waitKey{rel, query}]
	return w, ok, m.polls == 0 && m.fails > 0
}

// Close closes the monitor's connection. A nil Monitor has none.
func (m *Monitor) Close() error {
	if m == nil {
		return nil
	}
	return m.conn.Close()
}

// sessions runs an activity query.
func (m *Monitor) sessions(ctx context.Context, q string) (map[int64]session, error) {
	rows, err := m.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]session{}
	for rows.Next() {
		var s session
		var ms sql.NullFloat64
		if err := rows.Scan(&s.id, &ms, &s.waiting, &s.wait, &s.query); err != nil {
			return nil, err
		}
		s.ms = ms.Float64
		out[s.id] = s
	}
	return out, rows.Err()
}

type edge struct {
	blocker  int64
	lock     string
	relation string
}

// poll reads the server's views once and records the waits of tagged sessions. A
// failed poll is skipped: the Monitor only adds detail to stalls found by latency.
func (m *Monitor) poll(ctx context.Context, prog *Progress) {
	ss, err := m.sessions(ctx, m.activity)
	if err != nil {
		if ctx.Err() == nil {
			m.mu.Lock()
			m.fails++
			m.mu.Unlock()
		}
		return
	}
	now := time.Now()
	edges := map[int64][]edge{}
	kept := m.edges[:0]
	for _, q := range m.edges {
		if err := m.readEdges(ctx, q, edges); err != nil {
			if ctx.Err() != nil {
				return
			}
			continue // the server lacks this view: drop the query
		}
		kept = append(kept, q)
	}
	m.edges = kept
	found := map[waitKey]lockWait{}
	var behind *party // whom the migration waits for in this poll
	if ms, ok := ss[m.migration]; ok && m.migration != 0 && (ms.waiting || len(edges[m.migration]) > 0) {
		if b, _, ok := m.holder(m.migration, ss, edges); ok && !b.migration {
			behind = &b
		}
	}
	m.mu.Lock()
	if behind != nil {
		m.behind = behind
	}
	lastBehind := m.behind
	m.mu.Unlock()
	for id, s := range ss {
		rel, query, ok := traffic.ParseTag(s.query)
		if !ok || !(s.waiting || len(edges[id]) > 0) {
			continue
		}
		h, lock, ok := m.holder(id, ss, edges)
		if !ok {
			continue
		}
		w := lockWait{lock: lock, holder: h, exact: lock != ""}
		for _, e := range edges[id] {
			if e.relation != "" {
				w.relation = e.relation
				break
			}
		}
		if h.migration {
			w.held = now
		}
		if lock == "" {
			w.lock = s.wait
		}
		if h.migration {
			w.statement = prog.Current()
			w.behind = behind
			if w.behind == nil && s.ms > 0 && lastBehind != nil {
				// The migration is past its wait in this snapshot (or between
				// two views), but this query has been queued behind it since
				// before: it waited for the same party the migration last did.
				w.behind = lastBehind
			}
		}
		found[waitKey{rel, query}] = w
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.polls++
	for k, w := range found {
		// A query may be seen waiting many times (and several executions of it
		// may wait); keep the most telling observation, the latest among equals:
		// the snapshot at the very end of a wait is often half stale. held is
		// the latest time it was seen waiting for the migration, whichever
		// observation is kept.
		prev, ok := m.seen[k]
		held := w.held
		if ok && prev.held.After(held) {
			held = prev.held
		}
		if ok && w.score() < prev.score() {
			w = prev
		}
		w.held = held
		m.seen[k] = w
	}
}

func (m *Monitor) readEdges(ctx context.Context, q string, into map[int64][]edge) error {
	rows, err := m.conn.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var waiter, blocker sql.NullInt64
		var lock, relation sql.NullString
		if err := rows.Scan(&waiter, &blocker, &lock, &relation); err != nil {
			return err
		}
		// Id 0 is a server's own thread (MariaDB lists background threads' metadata
		// locks under it): never a session that could finish and let go.
		if waiter.Valid && blocker.Valid && waiter.Int64 != blocker.Int64 && blocker.Int64 != 0 {
			into[waiter.Int64] = append(into[waiter.Int64], edge{blocker.Int64, lock.String, relation.String})
		}
	}
	return rows.Err()
}

// holder picks who id waits for: the migration connection if it is among the
// blockers (or, where no lock view names blockers, if it is busy: a queued DDL is
// what holds everyone up on MySQL), else the blocker that has been running
// longest. ok is false when nobody is known.
func (m *Monitor) holder(id int64, ss map[int64]session, edges map[int64][]edge) (party, string, bool) {
	var cands []int64
	lock := ""
	for _, e := range edges[id] {
		cands = append(cands, e.blocker)
		if lock == "" {
			lock = e.lock
		}
	}
	if len(cands) == 0 {
		// No lock view named a blocker: the migration if it is busy, else the
		// oldest session that is not waiting itself.
		if _, ok := ss[m.migration]; ok && m.migration != 0 && id != m.migration {
			cands = []int64{m.migration}
		} else {
			for sid, s := range ss {
				if sid != id && sid != m.migration && !s.waiting {
					cands = append(cands, sid)
				}
			}
		}
	}
	if len(cands) == 0 {
		return party{}, "", false
	}
	best := cands[0]
	for _, c := range cands {
		if c == m.migration && m.migration != 0 {
			best = c
			break
		}
		if ss[c].ms > ss[best].ms {
			best = c
		}
	}
	return m.party(best, ss), lock, true
}

func (m *Monitor) party(id int64, ss map[int64]session) party {
	p := party{id: id, migration: id == m.migration && m.migration != 0}
	s := ss[id]
	if rel, q, ok := traffic.ParseTag(s.query); ok {
		p.release, p.query = rel, q
	}
	p.sql = traffic.StripTag(s.query)
	return p
}

// name renders a party: "pid 4242 (migration)", "thread 12 (old LongReport)".
func (m *Monitor) name(p party) string {
	s := m.lm.SessionNoun + " " + strconv.FormatInt(p.id, 10)
	switch {
	case p.migration:
		s += " (migration)"
	case p.release != "":
		s += " (" + string(p.release) + " " + p.query + ")"
	}
	return s
}

// describe renders a wait for reports: "RowExclusiveLock on users held by pid
// 4242 (migration): CREATE INDEX …", with ", itself waiting for thread 12 (old
// LongReport): SELECT …" when the holder waits too. stmtSQL is the migration
// statement's text, which the runner knows better than the activity view.
func (m *Monitor) describe(w lockWait, stmtSQL string) string {
	var b strings.Builder
	if w.lock != "" {
		b.WriteString(w.lock + " held by ")
	}
	b.WriteString(m.name(w.holder))
	sqlText := w.holder.sql
	if w.holder.migration && stmtSQL != "" {
		sqlText = stmtSQL
	}
	if sqlText != "" {
		b.WriteString(": " + oneLine(sqlText))
	}
	if w.behind != nil {
		b.WriteString(", itself waiting for " + m.name(*w.behind))
		if w.behind.sql != "" {
			b.WriteString(": " + oneLine(w.behind.sql))
		}
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
