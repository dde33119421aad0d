package analysis

import "testing"

func TestPercentileNearestRank(t *testing.T) {
	v := []int64{15, 20, 35, 40, 50}
	for p, want := range map[float64]int64{0: 15, 5: 15, 30: 20, 40: 20, 50: 35, 100: 50, 99.9: 50} {
		if got := Percentile(v, p); got != want {
			t.Errorf("p%v = %d, want %d", p, got, want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("empty")
	}
}

func TestSummarize(t *testing.T) {
	var v []int64
	for i := int64(1000); i >= 1; i-- { // 1..1000 reversed, with ties below
		v = append(v, i)
	}
	v = append(v, -5, -5)
	s := Summarize(v)
	if s.N != 1002 || s.Min != -5 || s.Max != 1000 || s.P50 != 499 || s.P90 != 900 || s.P99 != 990 || s.P999 != 999 {
		t.Errorf("%+v", s)
	}
	if one := Summarize([]int64{7}); one.Min != 7 || one.P50 != 7 || one.P9999 != 7 || one.Mean != 7 {
		t.Errorf("single: %+v", one)
	}
}

func TestFromHistogramMatchesExact(t *testing.T) {
	values := []int64{3, 3, 4, 10, 10, 10, 11, 50, 200, 200}
	counts := make([]int64, 100)
	var over []int64
	for _, v := range values {
		if v < 100 {
			counts[v]++
		} else {
			over = append(over, v)
		}
	}
	h := FromHistogram(counts, over, 3, 200)
	e := Summarize(append([]int64(nil), values...))
	if h.P50 != e.P50 || h.P90 != e.P90 || h.Mean != e.Mean || h.N != e.N {
		t.Errorf("histogram %+v exact %+v", h, e)
	}
}
