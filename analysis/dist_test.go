package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBucketsCoverEveryMagnitudeContiguously(t *testing.T) {
	var next uint64
	for i := 0; i <= bucketOf(math.MaxUint64); i++ {
		lo, w := bucketRange(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if i >= 2048 && float64(w)/float64(lo) > 1.0/1024 {
			t.Fatalf("bucket %d: width %d is %.4f%% of %d", i, w, 100*float64(w)/float64(lo), lo)
		}
		for _, m := range []uint64{lo, lo + w - 1, lo + w/2} {
			if got := bucketOf(m); got != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", m, got, i)
			}
		}
		next = lo + w
	}
	if next != 0 { // wrapped past 2^64-1: the last bucket ends at the largest magnitude
		t.Fatalf("buckets end at %d", next)
	}
}

// exactPercentile is the nearest-rank percentile by its definition, independent of the code under test.
func exactPercentile(v []int64, p float64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
}

func meanStd(v []int64) (float64, float64) {
	var sum float64
	for _, x := range v {
		sum += float64(x)
	}
	m := sum / float64(len(v))
	var sq float64
	for _, x := range v {
		sq += (float64(x) - m) * (float64(x) - m)
	}
	return m, math.Sqrt(sq / float64(len(v)))
}

func TestDistKnownAnswers(t *testing.T) {
	cases := []struct {
		name                    string
		values                  []int64
		min, max, p50, p90, p99 int64
		mean, stddev            float64
	}{
		{"single sample", []int64{1253188}, 1253188, 1253188, 1253188, 1253188, 1253188, 1253188, 0},
		{"ties", []int64{5, 5, 5, 5, 7, 7, 9, 9, 9, 9}, 5, 9, 7, 9, 9, 7, 1.7888543819998317 /* √3.2 */},
		{"negative", []int64{-300, -100, 0, 100, 300}, -300, 300, 0, 300, 300, 0, 200},
		// wrap-free 64-bit: TAI ns in 2026 differ from each other by little
		{"large", []int64{1795000000000000000, 1795000000000000002, 1795000000000000004}, 1795000000000000000, 1795000000000000004,
			1795000000000000002, 1795000000000000004, 1795000000000000004, 1795000000000000002, 1.632993161855452},
	}
	for _, c := range cases {
		var d Dist
		for _, v := range c.values {
			d.Add(v)
		}
		if d.Min() != c.min || d.Max() != c.max || d.Percentile(50) != c.p50 || d.Percentile(90) != c.p90 || d.Percentile(99) != c.p99 {
			t.Errorf("%s: min/max/p50/p90/p99 = %d %d %d %d %d, want %d %d %d %d %d", c.name, d.Min(), d.Max(),
				d.Percentile(50), d.Percentile(90), d.Percentile(99), c.min, c.max, c.p50, c.p90, c.p99)
		}
		if math.Abs(d.Mean()-c.mean) > 1e-6*math.Max(1, math.Abs(c.mean)) || math.Abs(d.Stddev()-c.stddev) > 1e-9 {
			t.Errorf("%s: mean %v stddev %v, want %v %v", c.name, d.Mean(), d.Stddev(), c.mean, c.stddev)
		}
		if !d.Exact() {
			t.Errorf("%s: not exact", c.name)
		}
	}
}

func TestDistExactMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var v []int64
	var d Dist
	for range 10000 {
		x := 1250000 + int64(r.NormFloat64()*80) // a scheduled time of 1.25 ms, 80 ns stddev
		v = append(v, x)
		d.Add(x)
	}
	for _, p := range []float64{0.01, 1, 50, 90, 99, 99.9, 99.99, 100} {
		if got, want := d.Percentile(p), exactPercentile(v, p); got != want {
			t.Errorf("p%v = %d, want %d", p, got, want)
		}
	}
	m, s := meanStd(v)
	if math.Abs(d.Mean()-m) > 1e-6 || math.Abs(d.Stddev()-s) > 1e-6 {
		t.Errorf("mean %v stddev %v, want %v %v", d.Mean(), d.Stddev(), m, s)
	}
}

// Past ExactLimit, percentiles come from the histogram: within 0.1 % of the deviation from the
// reference, so a 1.25 ms scheduled time keeps ns resolution.
func TestDistHistogramPrecision(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var v []int64
	var d Dist
	for range 3 * ExactLimit {
		x := 1250000 + int64(r.NormFloat64()*500)
		if r.IntN(1000) == 0 {
			x += 200000 // outliers far out
		}
		if r.IntN(1000) == 0 {
			x = -x // and negative ones
		}
		v = append(v, x)
		d.Add(x)
	}
	if d.Exact() {
		t.Fatal("still exact")
	}
	ref := d.ref
	for _, p := range []float64{1, 10, 50, 90, 99, 99.9, 99.99} {
		got, want := d.Percentile(p), exactPercentile(v, p)
		dev := math.Abs(float64(want - ref))
		if tol := 0.001 * dev; math.Abs(float64(got-want)) > tol {
			t.Errorf("p%v = %d, want %d ± %.1f", p, got, want, tol)
		}
	}
	if d.Min() != slices.Min(v) || d.Max() != slices.Max(v) || d.Percentile(100) != slices.Max(v) {
		t.Errorf("min/max %d/%d, want %d/%d", d.Min(), d.Max(), slices.Min(v), slices.Max(v))
	}
	m, s := meanStd(v)
	if math.Abs(d.Mean()-m) > 1e-3 || math.Abs(d.Stddev()-s)/s > 1e-9 {
		t.Errorf("mean %v stddev %v, want %v %v", d.Mean(), d.Stddev(), m, s)
	}
	var n uint64
	d.Each(func(lo, hi int64, c uint64) { n += c })
	if n != uint64(len(v)) {
		t.Errorf("buckets hold %d values, want %d", n, len(v))
	}
}

func TestHistExtremes(t *testing.T) {
	var h Hist
	for _, v := range []int64{math.MinInt64, -1, 0, 1, math.MaxInt64} {
		h.Add(v)
	}
	got := []int64{h.Rank(1), h.Rank(2), h.Rank(3), h.Rank(4), h.Rank(5)}
	if got[1] != -1 || got[2] != 0 || got[3] != 1 || got[0] > -(1<<62) || got[4] < 1<<62 {
		t.Errorf("ranks %v", got)
	}
}

func TestLogBuckets(t *testing.T) {
	for v, want := range map[int64][2]int64{0: {0, 0}, 1: {1, 1}, 2: {2, 4}, 7: {5, 9}, 10: {10, 19}, 1253: {1000, 1999},
		-30: {-49, -20}, math.MaxInt64: {5e18, math.MaxInt64}} {
		i := logBucket(v)
		var lo, hi int64
		switch {
		case i > 0:
			lo, hi = logBucketRange(i)
		case i < 0:
			l, h := logBucketRange(-i)
			lo, hi = -h, -l
		}
		if lo != want[0] || hi != want[1] {
			t.Errorf("%d: bucket [%d, %d], want %v", v, lo, hi, want)
		}
	}
	var d Dist
	for _, v := range []int64{-30, -25, 0, 3, 4, 1200, 1999, 2000} {
		d.Add(v)
	}
	got := logBuckets(&d, 0)
	want := []Bucket{{-49, -20, 2}, {0, 0, 1}, {2, 4, 2}, {1000, 1999, 2}, {2000, 4999, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("buckets %v, want %v", got, want)
	}
}

func TestSeriesKeepsExtremes(t *testing.T) {
	var s Series
	n := uint64(10 * SeriesPoints)
	for i := range n {
		v := int64(i % 7)
		if i == 12345 {
			v = 1000
		}
		s.Add(i, v)
	}
	if len(s.Points) > SeriesPoints || len(s.Points) < SeriesPoints/2 {
		t.Fatalf("%d points", len(s.Points))
	}
	var top int64
	var covered uint64
	for i, p := range s.Points {
		top = max(top, p.Max)
		if i > 0 && p.Seq != s.Points[i-1].Seq+s.PerPoint() {
			t.Fatalf("point %d starts at %d after %d (per %d)", i, p.Seq, s.Points[i-1].Seq, s.PerPoint())
		}
		covered = p.Seq + s.PerPoint()
	}
	if top != 1000 || covered < n {
		t.Errorf("max %d (want 1000), covers up to %d of %d", top, covered, n)
	}
}
