package runner

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/traffic"
)

// Load is load mode for one release: Clients concurrent clients run the release's
// workload continuously — through a before window of Duration, the whole step
// (during), and an after window of Duration — instead of the sequential passes of
// Config.Passes. The zero value means the defaults.
type Load struct {
	// Clients is how many executions run at once, each on its own connection of
	// the release's long-lived pool. Zero means DefaultClients.
	Clients int
	// Rate is the target executions per second over all clients; zero runs every
	// client flat out. When the server falls behind, clients catch up as fast as
	// they can (executions are due at a fixed schedule), as queued requests would.
	Rate float64
	// Duration is the length of the before and after windows. Zero means
	// DefaultDuration.
	Duration time.Duration
}

// Load mode defaults: enough clients to keep a small server busy, windows short
// enough for CI.
const (
	DefaultClients  = 4
	DefaultDuration = time.Second
)

// WithDefaults fills the zero fields of l with the defaults.
func (l Load) WithDefaults() Load {
	if l.Clients <= 0 {
		l.Clients = DefaultClients
	}
	if l.Duration <= 0 {
		l.Duration = DefaultDuration
	}
	if l.Rate < 0 {
		l.Rate = 0
	}
	return l
}

// Drive runs w in load mode at a: l.Clients clients for l.Duration, or until a.Stop
// is closed if that comes first. It returns the number of executions (passes, for
// a traffic.Workload that is not a traffic.Executor) started and finished, and the first
// environment failure. Benchmarks and `straddle bench` use it; rollouts drive
// their windows with the same clients.
func Drive(ctx context.Context, w traffic.Workload, l Load, a traffic.Where, sink observe.Sink) (int64, error) {
	l = l.WithDefaults()
	win := newWindow(a, sink)
	t := startClients(ctx, w, l, win)
	timer := time.NewTimer(l.Duration)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-a.Stop:
	case <-ctx.Done():
	case <-t.failed:
	}
	return t.Stop()
}

// window is what clients read before each execution: where it happens and which
// sink records it. Changing it closes the previous window's channel, so that a
// Pass in flight returns early and the next one starts in the new window. Safe for
// concurrent use; mu protects all fields.
type window struct {
	mu      sync.Mutex
	at      traffic.Where
	sink    observe.Sink
	changed chan struct{} // closed when at changes or the traffic ends
	done    bool
}

func newWindow(a traffic.Where, sink observe.Sink) *window {
	w := &window{sink: sink, changed: make(chan struct{})}
	w.at = a
	w.at.Stop = w.merge(a.Stop)
	return w
}

// merge returns a channel closed when either the window changes or stop closes.
func (w *window) merge(stop <-chan struct{}) <-chan struct{} {
	if stop == nil {
		return w.changed
	}
	ch, changed := make(chan struct{}), w.changed
	go func() {
		select {
		case <-stop:
		case <-changed:
		}
		close(ch)
	}()
	return ch
}

// get returns the current window; done reports that the traffic has ended.
func (w *window) get() (a traffic.Where, done bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.at, w.done
}

// Record passes e to the current window's sink. Clients record through the
// window, not the sink they started with, because an execution belongs to the
// window it ends in when a step began while it ran: a query sent just before the
// step whose lock request queued behind it waited on the step, and is counted
// (and checked for a stall) in the during window.
func (w *window) Record(e observe.Event) {
	w.mu.Lock()
	a, sink := w.at, w.sink
	w.mu.Unlock()
	if e.Window == plan.Before && a.Window == plan.During && e.Boundary == a.Boundary {
		e.Window = plan.During
		if a.Statement != nil {
			e.Statement = a.Statement()
		}
	}
	sink.Record(e)
}

// set moves the clients to a new window.
func (w *window) set(a traffic.Where, sink observe.Sink) {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.changed)
	w.changed = make(chan struct{})
	w.at, w.sink = a, sink
	w.at.Stop = w.merge(a.Stop)
}

// end stops the traffic: clients finish the execution in flight and return.
func (w *window) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.done = true
		close(w.changed)
	}
}

// Start starts l.Clients clients (at l.Rate; Duration is the caller's to keep)
// running w at a, recording into sink, until Stop.
func Start(ctx context.Context, w traffic.Workload, l Load, a traffic.Where, sink observe.Sink) *Traffic {
	return startClients(ctx, w, l, newWindow(a, sink))
}

// Move moves the clients to window a, recording into sink: an execution in flight
// belongs to the window it ends in (see window.Record).
func (t *Traffic) Move(a traffic.Where, sink observe.Sink) { t.win.set(a, sink) }

// Started is closed once every client has begun its first execution.
func (t *Traffic) Started() <-chan struct{} { return t.started }

// Failed is closed on the first environment failure of a client.
func (t *Traffic) Failed() <-chan struct{} { return t.failed }

// Traffic is one release's load-mode clients in progress: Start them in a
// window, Move them to the next one (the before window into the step), Stop them.
type Traffic struct {
	win    *window
	cancel context.CancelFunc
	wg     sync.WaitGroup
	count  atomic.Int64
	failed chan struct{} // closed on the first environment failure
	once   sync.Once
	mu     sync.Mutex
	err    error // mu protects err: the first environment failure
	// started is closed once every client has begun its first execution (the
	// rollout waits for it: traffic is live before a step begins).
	started chan struct{}
}

// startClients starts l.Clients goroutines running w in win until win ends or
// one of them fails.
func startClients(ctx context.Context, w traffic.Workload, l Load, win *window) *Traffic {
	ctx, cancel := context.WithCancel(ctx)
	t := &Traffic{win: win, cancel: cancel, failed: make(chan struct{}), started: make(chan struct{})}
	var pending sync.WaitGroup
	pending.Add(l.Clients)
	go func() { pending.Wait(); close(t.started) }()
	ex, isExec := w.(traffic.Executor)
	cn, canConnect := w.(traffic.Connector)
	pace := newPacer(l.Rate)
	n := int64(l.Clients)
	for k := range n {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			first := true
			exec := ex
			if isExec && canConnect {
				c, err := cn.Connect(ctx)
				if err != nil {
					pending.Done()
					t.fail(err)
					return
				}
				defer c.Close()
				exec = c
			}
			for i := k; ; {
				a, done := win.get()
				if done || ctx.Err() != nil {
					if first {
						pending.Done()
					}
					return
				}
				if !pace.wait(ctx, i, a.Stop) {
					continue // the window changed while waiting: read it again
				}
				if first {
					pending.Done()
					first = false
				}
				var err error
				if isExec {
					err = exec.Execute(ctx, a, win, i)
				} else {
					err = w.Pass(ctx, a, win)
				}
				if err != nil {
					t.fail(err)
					return
				}
				t.count.Add(1)
				i += n
			}
		}()
	}
	return t
}

// fail records the first environment failure and stops the other clients (whose
// own errors, the cancellation, come after it and are dropped).
func (t *Traffic) fail(err error) {
	t.mu.Lock()
	if t.err == nil {
		t.err = err
	}
	t.mu.Unlock()
	t.once.Do(func() { close(t.failed); t.cancel() })
}

// Stop ends the traffic, waits for every client and returns the number of
// executions and the first environment failure.
func (t *Traffic) Stop() (int64, error) {
	t.win.end()
	t.wg.Wait()
	t.cancel()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.count.Load(), t.err
}

// pacer schedules executions at a fixed rate: execution i is due at start + i/rate.
type pacer struct {
	start  time.Time
	period time.Duration // 0: no pacing
}

func newPacer(rate float64) *pacer {
	p := &pacer{start: time.Now()}
	if rate > 0 {
		p.period = time.Duration(float64(time.Second) / rate)
	}
	return p
}

// wait sleeps until execution i is due. It returns false when stop closed or ctx
// ended first.
func (p *pacer) wait(ctx context.Context, i int64, stop <-chan struct{}) bool {
	if p.period == 0 {
		return true
	}
	d := time.Until(p.start.Add(time.Duration(i) * p.period))
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
}
