package lockwatch

import (
	"slices"
	"sync"
	"time"
)

// Progress is how far a step has got: the statement being applied, when each
// began, and which statement first held a lock on each relation (where the
// dialect can tell). The applier of the step writes it; the monitor and the stall
// sink read it. The zero value is ready to use; safe for concurrent use (mu
// protects all fields).
type Progress struct {
	mu     sync.Mutex
	n      int
	starts []time.Time    // starts[k-1] is when statement k began
	locked map[string]int // relation → the statement that first held a lock on it
}

// Holding records that statement k holds locks on the relations.
func (p *Progress) Holding(k int, relations []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.locked == nil {
		p.locked = map[string]int{}
	}
	for _, r := range relations {
		if _, ok := p.locked[r]; !ok {
			p.locked[r] = k
		}
	}
}

// LockedBy returns the statement that first held a lock on relation, 0 if none
// is known.
func (p *Progress) LockedBy(relation string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.locked[relation]
}

// Begin marks statement k (1-based) as started now.
func (p *Progress) Begin(k int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = k
	p.starts = append(p.starts, time.Now())
}

// Current is the statement being applied, 0 before the first.
func (p *Progress) Current() int {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// At is the statement that was running at t: 0 before the first began.
func (p *Progress) At(t time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, _ := slices.BinarySearchFunc(p.starts, t, func(s, t time.Time) int { return s.Compare(t) })
	// starts[i-1] <= t < starts[i]
	if i < len(p.starts) && p.starts[i].Equal(t) {
		i++
	}
	return i
}
