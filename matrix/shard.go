package matrix

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/straddle-dev/straddle/harness/plan"
)

// Shard is one part of a matrix split n ways: Index of Count, 1-based.
type Shard struct {
	Index, Count int
}

// String renders "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseShard parses "i/n" with 1 <= i <= n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("%w: --shard %q: want i/n with 1 <= i <= n, e.g. 2/5", plan.ErrBadInput, s)
	}
	return Shard{Index: i, Count: n}, nil
}

// Split divides the matrix's cells into n shards of about equal cost: the
// costliest cell first goes to the cheapest shard so far (ties: the lower id, the
// lower shard). It is deterministic: the same matrix always splits the same way.
// Every cell is in exactly one shard; each shard's cells are in matrix order. A
// shard may be empty when there are fewer cells than shards.
func (m *Matrix) Split(n int) [][]Cell {
	if n < 1 {
		n = 1
	}
	order := make([]int, len(m.Cells))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ca, cb := m.Cells[order[a]], m.Cells[order[b]]
		if ca.Cost != cb.Cost {
			return ca.Cost > cb.Cost
		}
		return ca.ID < cb.ID
	})
	load := make([]float64, n)
	owner := make([]int, len(m.Cells))
	for _, i := range order {
		best := 0
		for s := 1; s < n; s++ {
			if load[s] < load[best] {
				best = s
			}
		}
		load[best] += m.Cells[i].Cost
		owner[i] = best
	}
	out := make([][]Cell, n)
	for i, c := range m.Cells {
		out[owner[i]] = append(out[owner[i]], c)
	}
	return out
}

// Shard returns the cells of one shard.
func (m *Matrix) Shard(s Shard) []Cell {
	return m.Split(s.Count)[s.Index-1]
}
