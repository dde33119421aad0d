package analysis

// SeriesPoints is how many points a Series keeps at most.
const SeriesPoints = 2048

// Series keeps a per-packet time series in constant memory for plotting: consecutive samples
// fall into buckets of equal size (a power of two), each keeping its minimum and maximum, so a
// plot of a billion packets still shows every outlier. When the buckets run out, neighbours merge
// and the bucket size doubles.
type Series struct {
	Points []SeriesPoint
	per    uint64 // samples per bucket
	inLast uint64 // samples in the last bucket
}

// SeriesPoint is one bucket: the sequence number of its first sample, and the extremes.
type SeriesPoint struct {
	Seq      uint64
	Min, Max int64
}

// Add appends the sample of packet seq.
func (s *Series) Add(seq uint64, v int64) {
	if s.per == 0 {
		s.per = 1
		s.Points = make([]SeriesPoint, 0, SeriesPoints)
	}
	if n := len(s.Points); n > 0 && s.inLast < s.per {
		p := &s.Points[n-1]
		p.Min, p.Max = min(p.Min, v), max(p.Max, v)
		s.inLast++
		return
	}
	if len(s.Points) == SeriesPoints {
		for i := 0; i < SeriesPoints/2; i++ {
			a, b := s.Points[2*i], s.Points[2*i+1]
			s.Points[i] = SeriesPoint{Seq: a.Seq, Min: min(a.Min, b.Min), Max: max(a.Max, b.Max)}
		}
		s.Points = s.Points[:SeriesPoints/2]
		s.per *= 2
	}
	s.Points = append(s.Points, SeriesPoint{Seq: seq, Min: v, Max: v})
	s.inLast = 1
}

// PerPoint is the number of samples behind each point (1 until the series was merged).
func (s *Series) PerPoint() uint64 { return max(s.per, 1) }
