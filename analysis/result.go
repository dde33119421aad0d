package analysis

import (
	"fmt"
	"math"
	"time"
)

// Result is what analyze reports: per stream, packet counts and indicators.
type Result struct {
	Files    []FileInfo     `json:"files"`
	Warnings []string       `json:"warnings,omitempty"`
	Warmup   *WarmupInfo    `json:"warmup,omitempty"`
	Streams  []StreamResult `json:"streams"`
	Sync     *SyncResult    `json:"sync,omitempty"` // from a tsnctl ptp run --log file
	SLA      []SLAResult    `json:"sla,omitempty"`
	Plan     []PlanResult   `json:"plan,omitempty"` // per planned stream (analyze -f FILE)
	planned  bool           // a plan was given
}

// WarmupInfo is what was left out at the start.
type WarmupInfo struct {
	Packets uint64 `json:"packets,omitempty"`
	TimeNs  int64  `json:"time_ns,omitempty"`
}

// StreamResult is one stream.
type StreamResult struct {
	StreamID   uint32               `json:"stream_id"`
	Packets    Packets              `json:"packets"`
	Drops      []ETFDrop            `json:"etf_drops,omitempty"` // the first MaxDropsListed, one by one
	Indicators map[string]Indicator `json:"indicators"`
	Sources    Sources              `json:"sources"`

	dists  map[string]*Dist
	series map[string]*Series
	mean   float64 // of scheduled_time, which jitter is relative to
}

// Packets are the stream's counters. Received, lost, duplicates and reordered come from the
// receiver's log; sent, etf_dropped, premature, late and not_locked from the sender's.
type Packets struct {
	Received          uint64 `json:"received"`
	Lost              uint64 `json:"lost"`
	Duplicates        uint64 `json:"duplicates"`
	Reordered         uint64 `json:"reordered"`
	Restarts          uint64 `json:"restarts,omitempty"` // the sender began its sequence again (a new run)
	Stale             uint64 `json:"stale,omitempty"`    // sequence numbers too late to judge (over 65536 behind)
	Sent              uint64 `json:"sent,omitempty"`
	ETFDropped        uint64 `json:"etf_dropped"`
	ETFDroppedMissed  uint64 `json:"etf_dropped_missed,omitempty"`
	ETFDroppedInvalid uint64 `json:"etf_dropped_invalid,omitempty"`
	OutsideWindow     uint64 `json:"outside_window"` // planned txtime outside the installed window
	Premature         uint64 `json:"premature"`
	Late              uint64 `json:"late"`
	NotLocked         uint64 `json:"not_locked"`
	NoRxTimestamp     uint64 `json:"no_rx_timestamp,omitempty"`
	WarmupExcluded    uint64 `json:"warmup_excluded,omitempty"` // packets (sent, or received) left out
	// CyclesSkipped are the cycles between the first and the last sent that sent nothing: overruns
	// (the sender skips cycles whose wake-up has passed) and cycles paused for time sync.
	CyclesSkipped uint64 `json:"cycles_skipped"`
}

// Sources say where the numbers come from.
type Sources struct {
	RxTimestamps string `json:"rx_timestamps,omitempty"` // hardware, software, mixed
	TxTimestamps string `json:"tx_timestamps,omitempty"`
	RTAppLatency string `json:"rt_app_latency,omitempty"` // sender or receiver log
	WindowCheck  string `json:"window_check,omitempty"`   // tx-timestamp or planned
	VLAN         *VLAN  `json:"vlan,omitempty"`
}

// VLAN is the 802.1Q tag the received frames carried.
type VLAN struct {
	ID  uint16 `json:"id"`
	PCP uint8  `json:"pcp"`
}

// Indicator is the distribution of one indicator, in ns.
type Indicator struct {
	Count       uint64   `json:"count"`
	Min         int64    `json:"min_ns"`
	Max         int64    `json:"max_ns"`
	Mean        float64  `json:"mean_ns"`
	Stddev      float64  `json:"stddev_ns"`
	P50         int64    `json:"p50_ns"`
	P90         int64    `json:"p90_ns"`
	P99         int64    `json:"p99_ns"`
	P999        int64    `json:"p999_ns"`
	P9999       int64    `json:"p9999_ns"`
	PkPk        *int64   `json:"pk_pk_ns,omitempty"`
	Percentiles string   `json:"percentiles"` // exact, or histogram (≤ 0.1 % of the deviation from the median of the first 65536)
	Histogram   []Bucket `json:"histogram"`
}

// Bucket is one bucket of a log-spaced histogram (1, 2, 5 × 10^k ns, mirrored for negative
// values): From ≤ value ≤ To.
type Bucket struct {
	From  int64  `json:"from_ns"`
	To    int64  `json:"to_ns"`
	Count uint64 `json:"count"`
}

// The indicators, in the order they are reported.
const (
	ScheduledTime = "scheduled_time" // receive timestamp − cycle start
	RTAppLatency  = "rt_app_latency" // send call − cycle start
	Jitter        = "jitter"         // scheduled time − its mean
	WakeupLatency = "wakeup_latency" // wake-up − planned wake-up
	TxtimeError   = "txtime_error"   // TX timestamp − planned txtime
	TxtimeToRx    = "txtime_to_rx"   // receive timestamp − planned txtime (the path delay with launch-time offload)
	PathDelay     = "path_delay"     // receive timestamp − TX timestamp (sender's and receiver's logs together)
)

// IndicatorNames lists the indicators in report order.
var IndicatorNames = []string{ScheduledTime, RTAppLatency, Jitter, WakeupLatency, TxtimeError, TxtimeToRx, PathDelay}

// Result computes the result so far.
func (a *Analyzer) Result() *Result {
	res := &Result{Files: a.Files}
	if a.syncSamples != nil {
		if a.firstCycle != 0 {
			res.Sync = syncResult(a.syncPath, a.syncSamples, a.firstCycle-int64(time.Second), a.lastCycle+int64(time.Second))
		}
		if res.Sync == nil { // no traffic, or none while the log ran
			res.Sync = syncResult(a.syncPath, a.syncSamples, 0, 0)
		}
	}
	if a.corrupt > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d records with impossible times (negative, or after the year 2116) left out: is the log corrupt?", a.corrupt))
	}
	if a.tooMany > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d records of streams past the first %d left out", a.tooMany, MaxStreams))
	}
	if a.opts.WarmupPackets > 0 || a.opts.WarmupTime > 0 {
		res.Warmup = &WarmupInfo{Packets: a.opts.WarmupPackets, TimeNs: int64(a.opts.WarmupTime)}
	}
	for _, id := range a.streamIDs() {
		s := a.streams[id]
		sr := StreamResult{StreamID: id, Indicators: map[string]Indicator{}, dists: map[string]*Dist{}, series: map[string]*Series{}}
		p := &sr.Packets
		p.Received, p.Duplicates, p.Reordered = s.rx.Received(), s.rx.Duplicates, s.rx.Reordered
		p.Restarts, p.Stale = s.rx.Restarts, s.rx.Stale
		p.Sent, p.ETFDropped, p.ETFDroppedMissed, p.ETFDroppedInvalid = s.sent, s.drops, s.dropsMissed, s.dropsInvalid
		sr.Drops = s.dropList
		p.OutsideWindow, p.Premature, p.Late, p.NotLocked = s.outsidePlanned, s.premature, s.late, s.notLocked
		p.NoRxTimestamp, p.WarmupExcluded, p.CyclesSkipped = s.noRxTime, max(s.warmTx, s.warmRx), s.cyclesSkipped
		switch {
		case s.sent > 0 && s.rxRecords > 0:
			// Every sent sequence number that did not arrive and was not dropped by ETF.
			if got := p.Received + s.drops; s.sent > got {
				p.Lost = s.sent - got
			}
		default:
			p.Lost = s.rx.Lost()
		}
		sr.Sources.RxTimestamps = source(s.hwRx, s.swRx)
		if s.txTimestamps > 0 {
			sr.Sources.TxTimestamps = source(s.hwTx, s.txTimestamps-s.hwTx)
		}
		if s.window != nil && s.sent > 0 {
			sr.Sources.WindowCheck = "planned"
			if s.windowFromTxTimestamp {
				sr.Sources.WindowCheck = "tx-timestamp"
			}
		}
		if s.vlanTCI >= 0 {
			sr.Sources.VLAN = &VLAN{ID: uint16(s.vlanTCI & 0xFFF), PCP: uint8(s.vlanTCI >> 13 & 7)}
		}
		add := func(name string, d *Dist, ser *Series) {
			if d.N() == 0 {
				return
			}
			sr.dists[name] = d
			if ser != nil {
				sr.series[name] = ser
			}
			sr.Indicators[name] = indicatorOf(d, 0)
		}
		add(ScheduledTime, &s.sched, &s.schedSeries)
		if s.rtTx.N() > 0 {
			add(RTAppLatency, &s.rtTx, &s.rtTxSer)
			sr.Sources.RTAppLatency = "sender"
		} else if s.rtRx.N() > 0 {
			add(RTAppLatency, &s.rtRx, &s.rtRxSer)
			sr.Sources.RTAppLatency = "receiver"
		}
		if s.sched.N() > 0 {
			sr.mean = s.sched.Mean()
			j := indicatorOf(&s.sched, sr.mean)
			pk := s.sched.Max() - s.sched.Min()
			j.PkPk = &pk
			sr.Indicators[Jitter] = j
		}
		add(WakeupLatency, &s.wake, nil)
		add(TxtimeError, &s.txErr, nil)
		add(TxtimeToRx, &s.txToRx, nil)
		add(PathDelay, &s.pathDelay, nil)
		res.Streams = append(res.Streams, sr)
		if s.plan != nil {
			res.Plan = append(res.Plan, s.judge(&sr))
		}
	}
	if a.opts.Plan != nil {
		res.planned = true
		for _, id := range a.streamIDs() {
			if a.streams[id].plan == nil {
				res.Warnings = append(res.Warnings, fmt.Sprintf("stream %d is none of the plan's streams: not judged against it", id))
			}
		}
		if len(res.Plan) == 0 {
			res.Warnings = append(res.Warnings, "no stream of the plan is in the logs")
		}
		a.checkPlanHeaders(res)
	}
	return res
}

func source(hw, sw uint64) string {
	switch {
	case hw > 0 && sw > 0:
		return "mixed"
	case hw > 0:
		return "hardware"
	case sw > 0:
		return "software"
	}
	return ""
}

// indicatorOf summarises d, shifted by -shift (jitter is scheduled time minus its mean).
func indicatorOf(d *Dist, shift float64) Indicator {
	sh := func(v int64) int64 { return int64(math.Round(float64(v) - shift)) }
	in := Indicator{
		Count: d.N(), Min: sh(d.Min()), Max: sh(d.Max()), Mean: round1(d.Mean() - shift), Stddev: round1(d.Stddev()),
		P50: sh(d.Percentile(50)), P90: sh(d.Percentile(90)), P99: sh(d.Percentile(99)),
		P999: sh(d.Percentile(99.9)), P9999: sh(d.Percentile(99.99)),
		Percentiles: "exact",
	}
	if !d.Exact() {
		in.Percentiles = "histogram"
	}
	in.Histogram = logBuckets(d, shift)
	return in
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// logBucket is the index of v's log-spaced bucket: 0 for 0, ±(1 + 3k + {0,1,2}) for magnitudes
// in [1,2), [2,5), [5,10) × 10^k.
func logBucket(v int64) int {
	if v == 0 {
		return 0
	}
	m := v
	if m < 0 {
		m = -m
		if m < 0 { // MinInt64
			m = math.MaxInt64
		}
	}
	i, p := 1, int64(1)
	for {
		switch {
		case m < 2*p:
			return sign(v) * i
		case m < 5*p:
			return sign(v) * (i + 1)
		case p > math.MaxInt64/10 || m < 10*p:
			return sign(v) * (i + 2)
		}
		i, p = i+3, p*10
	}
}

func sign(v int64) int {
	if v < 0 {
		return -1
	}
	return 1
}

// logBucketRange is the range of magnitudes of bucket index i > 0.
func logBucketRange(i int) (lo, hi int64) {
	p := int64(1)
	for k := (i - 1) / 3; k > 0; k-- {
		p *= 10
	}
	switch (i - 1) % 3 {
	case 0:
		return p, 2*p - 1
	case 1:
		return 2 * p, 5*p - 1
	}
	if p > math.MaxInt64/10 {
		return 5 * p, math.MaxInt64
	}
	return 5 * p, 10*p - 1
}

// logBuckets folds d's buckets (shifted by -shift) into the log-spaced ones.
func logBuckets(d *Dist, shift float64) []Bucket {
	var out []Bucket
	d.Each(func(lo, hi int64, c uint64) {
		v := int64(math.Round(float64(lo+(hi-lo)/2) - shift))
		i := logBucket(v)
		if n := len(out); n > 0 && out[n-1].From <= v && v <= out[n-1].To {
			out[n-1].Count += c
			return
		}
		var b Bucket
		switch {
		case i == 0:
			b = Bucket{0, 0, c}
		case i > 0:
			lo, hi := logBucketRange(i)
			b = Bucket{lo, hi, c}
		default:
			lo, hi := logBucketRange(-i)
			b = Bucket{-hi, -lo, c}
		}
		out = append(out, b)
	})
	return out
}

// Distribution returns the samples behind an indicator and the shift to subtract from them
// (jitter is scheduled_time shifted by its mean); nil if the stream has none.
func (s *StreamResult) Distribution(name string) (*Dist, float64) {
	if name == Jitter {
		return s.dists[ScheduledTime], s.mean
	}
	return s.dists[name], 0
}

// Series returns the per-packet series of an indicator (scheduled_time, rt_app_latency), or nil.
func (s *StreamResult) Series(name string) *Series { return s.series[name] }
