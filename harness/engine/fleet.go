package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Fleet starts at most one server per spec for a whole run and stops them all at the
// end: scenarios share servers and get a database each (never a server each). Safe
// for concurrent use; mu protects servers.
type Fleet struct {
	provider Provider

	mu      sync.Mutex
	servers map[string]*fleetEntry
}

type fleetEntry struct {
	ready  chan struct{}
	server Server
	err    error
	// cancelled: the start failed because its caller's ctx ended; the entry is
	// no longer in the map.
	cancelled bool
}

// NewFleet returns a fleet that starts servers with p.
func NewFleet(p Provider) *Fleet {
	return &Fleet{provider: p, servers: map[string]*fleetEntry{}}
}

// Provider is the provider the fleet starts servers with.
func (f *Fleet) Provider() Provider { return f.provider }

// Server returns the running server for spec, starting it on first use. Concurrent
// callers for the same spec wait for one start. A failed start is remembered: the
// run does not retry a broken engine for every scenario. A start that failed
// because its caller's ctx ended is not: the next caller (a later check sharing
// the fleet) starts the server again.
func (f *Fleet) Server(ctx context.Context, spec Spec) (Server, error) {
	key := spec.String() + "|" + spec.Image
	for {
		f.mu.Lock()
		e, ok := f.servers[key]
		if !ok {
			e = &fleetEntry{ready: make(chan struct{})}
			f.servers[key] = e
			f.mu.Unlock()
			e.server, e.err = f.provider.Start(ctx, spec)
			if e.err != nil {
				e.err = fmt.Errorf("start %s (%s provider): %w", spec, f.provider.Name(), e.err)
				if ctx.Err() != nil {
					e.cancelled = true
					f.mu.Lock()
					if f.servers[key] == e {
						delete(f.servers, key)
					}
					f.mu.Unlock()
				}
			}
			close(e.ready)
		} else {
			f.mu.Unlock()
		}
		select {
		case <-e.ready:
			if e.cancelled && ctx.Err() == nil {
				continue // another caller's cancelled start: try again
			}
			return e.server, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Started lists the servers started so far, by spec string.
func (f *Fleet) Started() []Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.servers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Server
	for _, k := range keys {
		e := f.servers[k]
		select {
		case <-e.ready:
			if e.server != nil {
				out = append(out, e.server)
			}
		default:
		}
	}
	return out
}

// Stop stops every server the fleet started. It ignores ctx cancellation: cleanup
// must finish after Ctrl-C.
func (f *Fleet) Stop(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	f.mu.Lock()
	entries := f.servers
	f.servers = map[string]*fleetEntry{}
	f.mu.Unlock()
	var errs []error
	for _, e := range entries {
		<-e.ready // a start in flight finishes (or fails) before we stop it
		if e.server != nil {
			errs = append(errs, e.server.Stop(ctx))
		}
	}
	return errors.Join(errs...)
}
