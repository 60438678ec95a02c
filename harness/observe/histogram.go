package observe

import (
	"math"
	"math/bits"
	"time"
)

// Histogram is a fixed-size log-linear latency histogram (HDR-style: 2^subBits
// linear sub-buckets per power of two of microseconds, so relative error stays under
// 1/2^subBits). The zero value is ready to use. Not safe for concurrent use on its
// own; Recorder guards it.
type Histogram struct {
	counts [histBuckets]int64
	n      int64
	max    time.Duration
	sum    time.Duration
}

const (
	subBits     = 4 // 16 sub-buckets per octave: < 6.25% error
	subCount    = 1 << subBits
	histOctaves = 40 // up to 2^40 µs ≈ 12 days
	histBuckets = (histOctaves + 1) * subCount
)

func bucketOf(us uint64) int {
	if us < subCount {
		return int(us)
	}
	oct := bits.Len64(us) - subBits // ≥ 1
	sub := int(us>>(oct-1)) & (subCount - 1)
	i := oct*subCount + sub
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// lowerBound returns the smallest microsecond value of bucket i.
func lowerBound(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	oct, sub := i/subCount, i%subCount
	return uint64(subCount+sub) << (oct - 1)
}

// Record adds one sample.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d/time.Microsecond))]++
	h.n++
	h.sum += d
	if d > h.max {
		h.max = d
	}
}

// Count is the number of samples.
func (h *Histogram) Count() int64 { return h.n }

// Max is the largest sample.
func (h *Histogram) Max() time.Duration { return h.max }

// Mean is the average sample.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile returns the q-quantile (0 < q ≤ 1), accurate to the bucket width; it
// never exceeds Max.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			// midpoint of the bucket
			lo := lowerBound(i)
			hi := lowerBound(i + 1)
			d := time.Duration((lo+hi)/2) * time.Microsecond
			if d > h.max {
				d = h.max
			}
			return d
		}
	}
	return h.max
}

// Merge adds o's samples to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	if o.max > h.max {
		h.max = o.max
	}
}
