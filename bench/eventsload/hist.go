package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// epoch is the driver's clock origin: publishers and subscribers live in
// this one process, so send and receive times come from the same
// monotonic clock.
var epoch = time.Now()

// clock is nanoseconds since epoch.
func clock() int64 { return int64(time.Since(epoch)) }

// Latency histogram: log-linear in microseconds, exact below 256 µs and
// then 128 buckets per power of two (under 0.8 % error), safe for
// concurrent use without locks.
const (
	histSub     = 7
	histExact   = 2 << histSub // 256
	histBuckets = histExact + 48<<histSub
)

type hist struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
}

func histIndex(us uint64) int {
	if us < histExact {
		return int(us)
	}
	shift := bits.Len64(us) - histSub - 1 // ≥ 1
	i := histExact + (shift-1)<<histSub + int(us>>shift) - 1<<histSub
	return min(i, histBuckets-1)
}

// histValue is the middle of bucket i, in microseconds.
func histValue(i int) float64 {
	if i < histExact {
		return float64(i)
	}
	j := i - histExact
	shift := j>>histSub + 1
	lo := uint64(j&(1<<histSub-1)+1<<histSub) << shift
	return float64(lo) + float64(uint64(1)<<shift)/2
}

func (h *hist) record(d time.Duration) {
	us := max(d.Microseconds(), 0)
	h.counts[histIndex(uint64(us))].Add(1)
	h.n.Add(1)
}

// quantile returns the q-quantile (0 < q ≤ 1) in milliseconds, or 0 when
// the histogram is empty.
func (h *hist) quantile(q float64) float64 {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	last := 0
	for i := range h.counts {
		c := h.counts[i].Load()
		if c == 0 {
			continue
		}
		last = i
		seen += c
		if seen >= rank {
			return histValue(i) / 1000
		}
	}
	return histValue(last) / 1000
}
