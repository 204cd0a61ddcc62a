package pace

import (
	"fmt"
	"math/bits"
	"time"
)

// Lateness summarises how late packets left against their deadlines.
// Quantiles come from a log-linear histogram and are upper bounds within
// 12.5% (exact below 8 ns); Max and Mean are exact. Early departures
// (only a clock stepping back can cause them) count as 0.
type Lateness struct {
	Count         uint64
	Mean          time.Duration
	P50, P90, P99 time.Duration
	Max           time.Duration
}

func (l Lateness) String() string {
	return fmt.Sprintf("%d paced, late p50 %v p90 %v p99 %v max %v", l.Count, l.P50, l.P90, l.P99, l.Max)
}

// histogram buckets: values 0-7 ns exactly, then 8 sub-buckets per power
// of two up to 2^63 ns.
const (
	subBits    = 3
	subBuckets = 1 << subBits
	nBuckets   = subBuckets + (64-subBits)*subBuckets
)

type histogram struct {
	n     uint64
	sum   time.Duration
	max   time.Duration
	count [nBuckets]uint64
}

func bucketOf(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	e := bits.Len64(v) - 1 // >= subBits
	sub := int(v>>(e-subBits)) & (subBuckets - 1)
	return subBuckets + (e-subBits)*subBuckets + sub
}

// upperOf is the largest value in bucket i.
func upperOf(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	e := (i-subBuckets)/subBuckets + subBits
	sub := uint64((i - subBuckets) % subBuckets)
	lo := uint64(1)<<e | sub<<(e-subBits)
	return lo + uint64(1)<<(e-subBits) - 1
}

func (h *histogram) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.n++
	h.sum += d
	h.max = max(h.max, d)
	h.count[bucketOf(uint64(d))]++
}

func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n-1)) + 1 // 1-based rank of the q-quantile
	var seen uint64
	for i, c := range h.count {
		seen += c
		if seen >= rank {
			return min(time.Duration(upperOf(i)), h.max)
		}
	}
	return h.max
}

func (h *histogram) summary() Lateness {
	l := Lateness{Count: h.n, Max: h.max, P50: h.quantile(0.5), P90: h.quantile(0.9), P99: h.quantile(0.99)}
	if h.n > 0 {
		l.Mean = h.sum / time.Duration(h.n)
	}
	return l
}
