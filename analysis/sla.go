package analysis

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/param"
)

// SLA is one service-level rule, e.g. scheduled_time.p9999<=1300us, jitter.pk_pk<=1us, lost==0,
// sync.locked>=100%. tsnctl report also takes a rule for one run ("case 2: etf_dropped==0") and a
// limit relative to another run ("wakeup_latency.p99>=0.4*[case 1]": the same statistic there).
type SLA struct {
	Text      string
	Rule      string // Text without its run
	Indicator string // "" for a packet counter; "sync" for time sync
	Stat      string // statistic of the indicator, or the packet counter
	Op        string
	Value     float64 // ns for times, a fraction for sync.locked; with Ref, the factor
	Run       string  // the run the rule judges, "" for every run (tsnctl report)
	Ref       string  // the run whose statistic times Value is the limit, "" for none (tsnctl report)
}

// SLAResult is the verdict of one rule on one stream (Rule without its run: a verdict is a run's).
type SLAResult struct {
	Rule     string  `json:"rule"`
	StreamID uint32  `json:"stream_id"`
	Actual   float64 `json:"actual"`
	Unit     string  `json:"unit"` // ns, "fraction", or "" for counts
	// Limit is what Actual was compared with, when the rule's limit came from another run.
	Limit  *float64 `json:"limit,omitempty"`
	OK     bool     `json:"ok"`
	Reason string   `json:"reason,omitempty"`
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
	// spread is min → p99, the report summary's measure of how widely a run's packets spread.
	"spread": func(i Indicator) float64 { return float64(i.P99 - i.Min) },
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

// syncStats are the time-sync statistics (tsnctl ptp run --log given as input): sync.locked, the
// share of the run's time LOCKED, as a percentage (100%) or a fraction (1).
var syncStats = map[string]func(*SyncResult) float64{
	"locked": func(s *SyncResult) float64 { return s.LockedFraction },
}

var (
	slaRe  = regexp.MustCompile(`^\s*([a-z_]+)(?:\.([a-z0-9_]+))?\s*(<=|>=|==|!=|<|>)\s*(\S.*?)\s*$`)
	slaRef = regexp.MustCompile(`^([0-9]+(?:\.[0-9]*)?)\s*[*×]\s*\[(.+)\]$`)
)

func keys[V any](m map[string]V) string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return strings.Join(k, ", ")
}

// cutRun splits "RUN: RULE" at the last colon outside [...] (run names may hold colons; rules do
// not, but a reference to another run does).
func cutRun(text string) (run, rule string, found bool) {
	depth := 0
	for i := len(text) - 1; i >= 0; i-- {
		switch text[i] {
		case ']':
			depth++
		case '[':
			depth--
		case ':':
			if depth == 0 {
				return strings.TrimSpace(text[:i]), text[i+1:], true
			}
		}
	}
	return "", text, false
}

// ParseSLA reads a rule: INDICATOR.STAT OP DURATION (e.g. jitter.pk_pk<=1us), COUNTER OP N
// (e.g. lost==0) or sync.locked OP PERCENT, optionally for one run (RUN: RULE) or with a limit
// relative to another run's same statistic (STAT OP FACTOR*[RUN]).
func ParseSLA(text string) (SLA, error) {
	bad := func(format string, a ...any) (SLA, error) {
		return SLA{}, param.Errorf("sla", strconv.Quote(text), format, a...)
	}
	run, body, scoped := cutRun(text)
	m := slaRe.FindStringSubmatch(body)
	if m == nil || scoped && run == "" {
		return bad("want INDICATOR.STAT OP VALUE (scheduled_time.p9999<=1300us) or COUNTER OP N (lost==0), optionally after RUN: ; OP is one of <= < >= > == !=")
	}
	r := SLA{Text: strings.TrimSpace(text), Rule: strings.TrimSpace(body), Op: m[3], Run: run}
	value := m[4]
	if ref := slaRef.FindStringSubmatch(value); ref != nil {
		f, err := strconv.ParseFloat(ref[1], 64)
		if err != nil {
			return bad("%q: want a factor, such as 20*[case 2]", value)
		}
		r.Value, r.Ref = f, strings.TrimSpace(ref[2])
	} else if strings.Contains(value, "[") {
		return bad("%q: a limit from another run is FACTOR*[RUN], such as 0.4*[case 1]", value)
	}
	switch {
	case m[1] == "sync":
		if _, ok := syncStats[m[2]]; !ok {
			return bad("%q is not a time-sync statistic; statistics: %s", m[2], keys(syncStats))
		}
		r.Indicator, r.Stat = "sync", m[2]
		if r.Ref != "" {
			return r, nil
		}
		pct, isPct := strings.CutSuffix(value, "%")
		f, err := strconv.ParseFloat(pct, 64)
		if isPct {
			f /= 100
		}
		if err != nil || f < 0 || f > 1 {
			return bad("%q: want a share of the time, 0%%-100%% (or 0-1)", value)
		}
		r.Value = f
		return r, nil
	case m[2] == "":
		if _, ok := slaCounters[m[1]]; !ok {
			return bad("%q is not a packet counter; counters: %s (or INDICATOR.STAT, sync.locked)", m[1], keys(slaCounters))
		}
		r.Stat = m[1]
		if r.Ref != "" {
			return r, nil
		}
		n, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			return bad("%q: want a whole number of packets", value)
		}
		r.Value = float64(n)
		return r, nil
	}
	known := false
	for _, n := range IndicatorNames {
		known = known || n == m[1]
	}
	if !known {
		return bad("unknown indicator %q; indicators: %s", m[1], strings.Join(IndicatorNames, ", "))
	}
	if _, ok := slaStats[m[2]]; !ok {
		return bad("unknown statistic %q; statistics: %s", m[2], keys(slaStats))
	}
	r.Indicator, r.Stat = m[1], m[2]
	if r.Ref != "" {
		return r, nil
	}
	if m[2] == "count" {
		n, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			return bad("%q: a count is a whole number", value)
		}
		r.Value = float64(n)
		return r, nil
	}
	d, err := time.ParseDuration(strings.ReplaceAll(value, "µ", "u"))
	if err != nil {
		return bad("%q: want a duration with its unit, such as 1300us, 1.3ms or 250ns", value)
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

// measure is rule r's statistic of stream s (of a run whose time sync is sy), with its unit, or
// why it has none.
func (r SLA) measure(s *StreamResult, sy *SyncResult) (v float64, unit, reason string) {
	switch {
	case r.Indicator == "sync":
		if sy == nil {
			return 0, "", "no time-sync log in this run (give tsnctl ptp run --log's file with the run's logs)"
		}
		return syncStats[r.Stat](sy), "fraction", ""
	case r.Indicator == "":
		return float64(slaCounters[r.Stat](s.Packets)), "", ""
	}
	in, have := s.Indicators[r.Indicator]
	if !have {
		return 0, "", "no samples of " + r.Indicator + " in this stream"
	}
	if r.Stat == "count" {
		return slaStats[r.Stat](in), "", ""
	}
	return slaStats[r.Stat](in), "ns", ""
}

// CheckSLA evaluates the rules on every stream, stores the verdicts in res and reports whether
// all held. A rule on an indicator a stream has no samples of is violated: it could not be checked.
// Rules for a named run or relative to another run are tsnctl report's (CheckRuns).
func (res *Result) CheckSLA(rules []SLA) bool {
	ok, _ := res.check(rules, nil)
	return ok
}

func (res *Result) check(rules []SLA, refs map[string]*Result) (bool, error) {
	ok := true
	if len(rules) > 0 && len(res.Streams) == 0 {
		// Nothing to judge is not a pass: a log with a header only, a warm-up longer than the run.
		for _, r := range rules {
			res.SLA = append(res.SLA, SLAResult{Rule: r.Rule, Reason: "no packets to judge (no stream in the input, or all in the warm-up)"})
		}
		return false, nil
	}
	for i := range res.Streams {
		s := &res.Streams[i]
		for _, r := range rules {
			v := SLAResult{Rule: r.Rule, StreamID: s.StreamID}
			v.Actual, v.Unit, v.Reason = r.measure(s, res.Sync)
			limit := r.Value
			if r.Ref != "" {
				other, err := refStream(refs[r.Ref], s.StreamID)
				if err != nil {
					return false, param.Errorf("sla", strconv.Quote(r.Text), "run %q %v", r.Ref, err)
				}
				base, _, why := r.measure(other, refs[r.Ref].Sync)
				if why != "" && v.Reason == "" {
					v.Reason = "in " + r.Ref + ": " + why
				}
				limit = r.Value * base
				v.Limit = &limit
			}
			v.OK = v.Reason == "" && compare(v.Actual, r.Op, limit)
			ok = ok && v.OK
			res.SLA = append(res.SLA, v)
		}
	}
	return ok, nil
}

// refStream is the stream of another run a relative limit is taken from: the one with the same
// id, or the run's only stream.
func refStream(res *Result, id uint32) (*StreamResult, error) {
	for i := range res.Streams {
		if res.Streams[i].StreamID == id {
			return &res.Streams[i], nil
		}
	}
	if len(res.Streams) == 1 {
		return &res.Streams[0], nil
	}
	return nil, fmt.Errorf("has no stream %d to compare with (it has %d streams)", id, len(res.Streams))
}

// CheckRuns evaluates rules over the named runs (tsnctl report): a rule without a run on every
// run, a rule with one on that run only; a relative limit is taken from the run it names. It
// stores each run's verdicts in its result and reports whether all held. A rule that names a run
// not given is an error that lists the runs.
func CheckRuns(names []string, results []*Result, rules []SLA) (bool, error) {
	byName := map[string]*Result{}
	for i, n := range names {
		byName[n] = results[i]
	}
	for _, r := range rules {
		for _, n := range []string{r.Run, r.Ref} {
			if _, ok := byName[n]; n != "" && !ok {
				return false, param.Errorf("sla", strconv.Quote(r.Text), "no run is named %q; the runs: %q", n, names)
			}
		}
	}
	ok := true
	for i, n := range names {
		var mine []SLA
		for _, r := range rules {
			if r.Run == "" || r.Run == n {
				mine = append(mine, r)
			}
		}
		if len(mine) == 0 {
			continue
		}
		held, err := results[i].check(mine, byName)
		if err != nil {
			return false, err
		}
		ok = held && ok
	}
	return ok, nil
}

// Shown is the verdict's measured value with its unit (times in µs, written us), the limit when
// it came from another run, or why there is none.
func (v SLAResult) Shown(us string) string {
	if v.Reason != "" {
		return v.Reason
	}
	show := func(x float64) string {
		switch v.Unit {
		case "ns":
			return Micros(x) + " " + us
		case "fraction":
			return fmt.Sprintf("%.1f %%", 100*x)
		}
		return fmt.Sprintf("%g", x)
	}
	if v.Limit != nil {
		return show(v.Actual) + " (limit " + show(*v.Limit) + ")"
	}
	return show(v.Actual)
}
