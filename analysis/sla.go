package analysis

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/param"
)

// SLA is one service-level rule, e.g. scheduled_time.p9999<=1300us, jitter.pk_pk<=1us, lost==0.
type SLA struct {
	Text      string
	Indicator string // "" for a packet counter
	Stat      string // statistic of the indicator, or the packet counter
	Op        string
	Value     float64 // ns for times
}

// SLAResult is the verdict of one rule on one stream.
type SLAResult struct {
	Rule     string  `json:"rule"`
	StreamID uint32  `json:"stream_id"`
	Actual   float64 `json:"actual"`
	Unit     string  `json:"unit"` // ns, or "" for counts
	OK       bool    `json:"ok"`
	Reason   string  `json:"reason,omitempty"`
}

var slaStats = map[string]func(Indicator) float64{
	"count":  func(i Indicator) float64 { return float64(i.Count) },
	"min":    func(i Indicator) float64 { return float64(i.Min) },
	"max":    func(i Indicator) float64 { return float64(i.Max) },
	"mean":   func(i Indicator) float64 { return i.Mean },
	"stddev": func(i Indicator) float64 { return i.Stddev },
	"p50":    func(i Indicator) float64 { return float64(i.P50) },
	"p90":    func(i Indicator) float64 { return float64(i.P90) },
	"p99":    func(i Indicator) float64 { return float64(i.P99) },
	"p999":   func(i Indicator) float64 { return float64(i.P999) },
	"p9999":  func(i Indicator) float64 { return float64(i.P9999) },
	"pk_pk": func(i Indicator) float64 {
		if i.PkPk != nil {
			return float64(*i.PkPk)
		}
		return float64(i.Max - i.Min)
	},
}

var slaCounters = map[string]func(Packets) uint64{
	"received":        func(p Packets) uint64 { return p.Received },
	"lost":            func(p Packets) uint64 { return p.Lost },
	"duplicates":      func(p Packets) uint64 { return p.Duplicates },
	"reordered":       func(p Packets) uint64 { return p.Reordered },
	"sent":            func(p Packets) uint64 { return p.Sent },
	"etf_dropped":     func(p Packets) uint64 { return p.ETFDropped },
	"outside_window":  func(p Packets) uint64 { return p.OutsideWindow },
	"premature":       func(p Packets) uint64 { return p.Premature },
	"late":            func(p Packets) uint64 { return p.Late },
	"not_locked":      func(p Packets) uint64 { return p.NotLocked },
	"no_rx_timestamp": func(p Packets) uint64 { return p.NoRxTimestamp },
	"cycles_skipped":  func(p Packets) uint64 { return p.CyclesSkipped },
}

var slaRe = regexp.MustCompile(`^\s*([a-z_]+)(?:\.([a-z0-9_]+))?\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$`)

func keys[V any](m map[string]V) string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return strings.Join(k, ", ")
}

// ParseSLA reads a rule: INDICATOR.STAT OP DURATION (e.g. jitter.pk_pk<=1us) or COUNTER OP N
// (e.g. lost==0).
func ParseSLA(text string) (SLA, error) {
	m := slaRe.FindStringSubmatch(text)
	if m == nil {
		return SLA{}, param.Errorf("sla", strconv.Quote(text), "want INDICATOR.STAT OP VALUE (scheduled_time.p9999<=1300us) or COUNTER OP N (lost==0); OP is one of <= < >= > == !=")
	}
	r := SLA{Text: strings.TrimSpace(text), Op: m[3]}
	if m[2] == "" {
		if _, ok := slaCounters[m[1]]; !ok {
			return SLA{}, param.Errorf("sla", strconv.Quote(text), "%q is not a packet counter; counters: %s (or INDICATOR.STAT)", m[1], keys(slaCounters))
		}
		n, err := strconv.ParseUint(m[4], 10, 64)
		if err != nil {
			return SLA{}, param.Errorf("sla", strconv.Quote(text), "%q: want a whole number of packets", m[4])
		}
		r.Stat, r.Value = m[1], float64(n)
		return r, nil
	}
	known := false
	for _, n := range IndicatorNames {
		known = known || n == m[1]
	}
	if !known {
		return SLA{}, param.Errorf("sla", strconv.Quote(text), "unknown indicator %q; indicators: %s", m[1], strings.Join(IndicatorNames, ", "))
	}
	if _, ok := slaStats[m[2]]; !ok {
		return SLA{}, param.Errorf("sla", strconv.Quote(text), "unknown statistic %q; statistics: %s", m[2], keys(slaStats))
	}
	r.Indicator, r.Stat = m[1], m[2]
	if m[2] == "count" {
		n, err := strconv.ParseUint(m[4], 10, 64)
		if err != nil {
			return SLA{}, param.Errorf("sla", strconv.Quote(text), "%q: a count is a whole number", m[4])
		}
		r.Value = float64(n)
		return r, nil
	}
	d, err := time.ParseDuration(strings.ReplaceAll(m[4], "µ", "u"))
	if err != nil {
		return SLA{}, param.Errorf("sla", strconv.Quote(text), "%q: want a duration with its unit, such as 1300us, 1.3ms or 250ns", m[4])
	}
	r.Value = float64(d.Nanoseconds())
	return r, nil
}

func compare(a float64, op string, b float64) bool {
	switch op {
	case "<=":
		return a <= b
	case "<":
		return a < b
	case ">=":
		return a >= b
	case ">":
		return a > b
	case "==":
		return a == b
	}
	return a != b
}

// CheckSLA evaluates the rules on every stream, stores the verdicts in res and reports whether
// all held. A rule on an indicator a stream has no samples of is violated: it could not be checked.
func (res *Result) CheckSLA(rules []SLA) bool {
	ok := true
	if len(rules) > 0 && len(res.Streams) == 0 {
		// Nothing to judge is not a pass: a log with a header only, a warm-up longer than the run.
		for _, r := range rules {
			res.SLA = append(res.SLA, SLAResult{Rule: r.Text, Reason: "no packets to judge (no stream in the input, or all in the warm-up)"})
		}
		return false
	}
	for _, s := range res.Streams {
		for _, r := range rules {
			v := SLAResult{Rule: r.Text, StreamID: s.StreamID}
			if r.Indicator == "" {
				v.Actual = float64(slaCounters[r.Stat](s.Packets))
			} else if in, have := s.Indicators[r.Indicator]; !have {
				v.Reason = "no samples of " + r.Indicator + " in this stream"
			} else {
				v.Actual = slaStats[r.Stat](in)
				if r.Stat != "count" {
					v.Unit = "ns"
				}
			}
			v.OK = v.Reason == "" && compare(v.Actual, r.Op, r.Value)
			ok = ok && v.OK
			res.SLA = append(res.SLA, v)
		}
	}
	return ok
}
