// Package analysis turns samples into statistics: exact percentiles now; latency and jitter
// indicators of sample logs as they come.
package analysis

import (
	"math"
	"sort"
)

// Percentile returns the p-th percentile (0..100) of sorted values by the nearest-rank method:
// the smallest value with at least p % of the values at or below it. Exact, no interpolation.
func Percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// Summary is the distribution of a set of values.
type Summary struct {
	N                               int
	Min, P50, P90, P99, P999, P9999 int64
	Max                             int64
	Mean                            float64
}

// Summarize sorts values (in place) and summarizes them.
func Summarize(values []int64) Summary {
	s := Summary{N: len(values)}
	if len(values) == 0 {
		return s
	}
	sort.Slice(values, func(a, b int) bool { return values[a] < values[b] })
	var sum float64
	for _, v := range values {
		sum += float64(v)
	}
	s.Min, s.Max, s.Mean = values[0], values[len(values)-1], sum/float64(len(values))
	s.P50, s.P90, s.P99 = Percentile(values, 50), Percentile(values, 90), Percentile(values, 99)
	s.P999, s.P9999 = Percentile(values, 99.9), Percentile(values, 99.99)
	return s
}

// FromHistogram summarizes a histogram of 1-unit buckets (counts[i] values equal to i) plus
// overflow values above the last bucket, as cyclictest -h prints it.
func FromHistogram(counts []int64, overflow []int64, min, max int64) Summary {
	var n int64
	for _, c := range counts {
		n += c
	}
	n += int64(len(overflow))
	s := Summary{N: int(n), Min: min, Max: max}
	if n == 0 {
		return s
	}
	at := func(p float64) int64 {
		rank := int64(math.Ceil(p / 100 * float64(n)))
		if rank < 1 {
			rank = 1
		}
		var cum int64
		for i, c := range counts {
			cum += c
			if cum >= rank {
				return int64(i)
			}
		}
		return max
	}
	var sum float64
	for i, c := range counts {
		sum += float64(i) * float64(c)
	}
	for _, v := range overflow {
		sum += float64(v)
	}
	s.Mean = sum / float64(n)
	s.P50, s.P90, s.P99, s.P999, s.P9999 = at(50), at(90), at(99), at(99.9), at(99.99)
	return s
}
