package analysis

import (
	"math"
	"math/bits"
)

// Hist is a histogram of signed 64-bit values that cannot overflow: log-linear buckets (as in
// HdrHistogram) with 1024 sub-buckets per power of two, so that every value from -2^63 to 2^63-1
// has a bucket, a bucket's width is at most 1/1024 (0.098 %) of the magnitudes it holds, and
// magnitudes below 2048 have a bucket each (exact). Memory grows with the range of magnitudes
// seen, to at most 2 × 56 Ki counters; it never grows with the number of values.
//
// (github.com/HdrHistogram/hdrhistogram-go was the candidate; it takes non-negative values in a
// range fixed in advance, and its quantiles are not nearest-rank, which the exact path uses.)
type Hist struct {
	pos, neg []uint64 // counts by bucket of v ≥ 0 and of -v for v < 0
	n        uint64
}

const subBits = 10 // 1024 sub-buckets per power of two

// bucketOf is the bucket index of magnitude m.
func bucketOf(m uint64) int {
	s := bits.Len64(m) - (subBits + 1)
	if s < 0 {
		s = 0
	}
	return s<<subBits + int(m>>uint(s))
}

// bucketRange is the smallest magnitude of bucket i and its width.
func bucketRange(i int) (lo, width uint64) {
	if i < 2<<subBits {
		return uint64(i), 1
	}
	s := i>>subBits - 1
	mant := uint64(i - s<<subBits)
	return mant << uint(s), 1 << uint(s)
}

// bucketMid is the value a bucket stands for: the middle of its range (exact for width 1).
func bucketMid(i int) uint64 {
	lo, w := bucketRange(i)
	return lo + (w-1)/2
}

// Add counts v once.
func (h *Hist) Add(v int64) { h.AddN(v, 1) }

// AddN counts v n times.
func (h *Hist) AddN(v int64, n uint64) {
	counts := &h.pos
	m := uint64(v)
	if v < 0 {
		counts, m = &h.neg, -m // -MinInt64 wraps to itself: 2^63 as unsigned, correct
	}
	i := bucketOf(m)
	if i >= len(*counts) {
		grown := make([]uint64, i+1+i/4)
		copy(grown, *counts)
		*counts = grown
	}
	(*counts)[i] += n
	h.n += n
}

// N is the number of values counted.
func (h *Hist) N() uint64 { return h.n }

// Rank returns the value of rank r (1-based, in ascending order), to the bucket's precision.
func (h *Hist) Rank(r uint64) int64 {
	var cum uint64
	for i := len(h.neg) - 1; i >= 0; i-- {
		if cum += h.neg[i]; cum >= r {
			if m := bucketMid(i); m < 1<<63 {
				return -int64(m)
			}
			return math.MinInt64
		}
	}
	for i, c := range h.pos {
		if cum += c; cum >= r {
			return int64(bucketMid(i))
		}
	}
	return 0
}

// Each calls fn for every non-empty bucket in ascending order of value, with the bucket's
// lowest and highest value and its count.
func (h *Hist) Each(fn func(lo, hi int64, count uint64)) {
	for i := len(h.neg) - 1; i >= 0; i-- {
		if c := h.neg[i]; c > 0 {
			lo, w := bucketRange(i)
			fn(-int64(lo+w-1), -int64(lo), c)
		}
	}
	for i, c := range h.pos {
		if c > 0 {
			lo, w := bucketRange(i)
			fn(int64(lo), int64(lo+w-1), c)
		}
	}
}
