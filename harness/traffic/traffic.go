package traffic

import (
	"context"
	"strings"

	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
)

// Where says where an execution happens; workloads copy it into their events.
type Where struct {
	Engine   string
	Boundary plan.Boundary
	Window   plan.Window
	// Statement returns the 1-based statement of the step being applied (0 before
	// the first); nil outside a step.
	Statement func() int
	// Stop is closed when the window ends: a workload looping during a step
	// finishes the execution in flight and returns. Nil runs a pass to the end.
	Stop <-chan struct{}
	// Observe runs each execution inside a transaction that is rolled back: the
	// release is not required here (it would not run here in production), so
	// what it writes must not reach later states. Errors and results are kept.
	Observe bool
	// AfterStatement is k for a probe of the state after statement k of a step
	// whose statements commit one by one; 0 otherwise. StepStatements is the
	// step's number of statements and StatementSQL the text of statement k.
	AfterStatement int
	StepStatements int
	StatementSQL   string
}

// Stopped reports whether the window has ended.
func (w Where) Stopped() bool {
	if w.Stop == nil {
		return false
	}
	select {
	case <-w.Stop:
		return true
	default:
		return false
	}
}

// Workload is one release's traffic as the runner drives it.
type Workload interface {
	// Pass runs the workload once through at w, recording each execution into
	// sink, and returns early once w.Stop is closed. Query failures are recorded,
	// not returned: the error is for environment failures only.
	Pass(ctx context.Context, w Where, sink observe.Sink) error
}

// Prober is a Workload that can probe a state: run every query once on the
// release's long-lived session and once on a new connection, with the events'
// Probe and Session set. The runner probes every state a release runs in — the
// baseline, after each step, and after each statement of a step whose statements
// commit one by one — so what a state breaks is found whatever the traffic
// happened to meet. Workloads that are not Probers (external commands) run a
// pass instead.
type Prober interface {
	Probe(ctx context.Context, w Where, sink observe.Sink) error
}

// Orderer is the optional capability of a Workload to order its writes by the
// schema once it exists: the rollout calls OrderWrites once, after the baseline
// steps and before any traffic (release.Runner runs inserts parents first).
type Orderer interface {
	OrderWrites(ctx context.Context) error
}

// Executor is the optional capability of a Workload to run one execution at a
// time. Load mode uses it to deal a release's executions out to its clients, like
// an application's workers each doing their share (with N clients, client k runs
// executions k, k+N, k+2N, …: with as many clients as executions per pass, each
// client always runs the same one, so a long report occupies one client while the
// others keep serving short queries), and to pace them at a target rate. A
// Workload without it is driven a whole Pass at a time. Stall detection applies
// to Executor workloads only: each of their events is one statement, so a long
// latency is a wait, whereas an external program's single event times the whole
// program.
type Executor interface {
	// Execute runs execution i (counting from 0 across all clients, wrapping
	// around the workload) at w and records it into sink. Safe for concurrent
	// use; like Pass, it returns an error for environment failures only.
	Execute(ctx context.Context, w Where, sink observe.Sink, i int64) error
}

// Connector is the optional capability of an Executor to give each load-mode
// client a connection of its own for as long as the client runs (a window, or a
// before window and the step), as an application worker under steady load keeps
// its connection busy: executions then skip the pool's checkout and whatever the
// driver does at each one.
type Connector interface {
	Connect(ctx context.Context) (Conn, error)
}

// Conn is one client's connection: an Executor bound to it. Close returns it.
type Conn interface {
	Executor
	Close() error
}

// tagPrefix starts the comment Tag puts in front of a tagged query.
const tagPrefix = "/* straddle:"

// Tag is the comment a runner made WithTags puts in front of each query:
// "/* straddle:old:GetUser */". Servers show it in their activity views
// (pg_stat_activity.query, information_schema.PROCESSLIST.INFO), which is how a
// lock monitor tells which release's query is waiting.
func Tag(rel plan.Release, query string) string {
	return tagPrefix + string(rel) + ":" + query + " */"
}

// ParseTag reads the release and query name from the Tag at the start of sql
// (after leading white space); ok is false when sql carries none.
func ParseTag(sql string) (rel plan.Release, query string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimLeft(sql, " \t\r\n"), tagPrefix)
	if !found {
		return "", "", false
	}
	body, _, found := strings.Cut(rest, " */")
	if !found {
		return "", "", false
	}
	r, q, found := strings.Cut(body, ":")
	if !found || r == "" || q == "" {
		return "", "", false
	}
	return plan.Release(r), q, true
}

// StripTag returns sql without its leading Tag.
func StripTag(sql string) string {
	t := strings.TrimLeft(sql, " \t\r\n")
	if !strings.HasPrefix(t, tagPrefix) {
		return sql
	}
	if _, rest, ok := strings.Cut(t, " */"); ok {
		return strings.TrimLeft(rest, " ")
	}
	return sql
}
