package analysis

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/samplelog"
	"github.com/tsnctl/tsnctl/seqtrack"
)

// Options choose what an Analyzer leaves out.
type Options struct {
	// WarmupPackets leaves out each stream's first N sequence numbers.
	WarmupPackets uint64
	// WarmupTime leaves out the packets whose cycle started less than this long after the
	// stream's first cycle.
	WarmupTime time.Duration
	// Plan, if given (analyze -f FILE), judges each planned stream by its own window and deadline
	// (Result.Plan): the stream whose id is a plan's takes its window and period from the plan,
	// not from the sender's header.
	Plan []StreamPlan
}

// Analyzer accumulates the records of one run (a sender's log, a receiver's log, or both) in
// constant memory per stream. Add records in file order; then Result.
type Analyzer struct {
	opts    Options
	streams map[uint32]*stream
	last    *stream
	tooMany uint64 // records of streams past MaxStreams
	corrupt uint64 // records with impossible times, left out
	// the time-sync log, summarised at Result time over the traffic's span
	syncPath    string
	syncSamples []syncSample
	// the span of the run's cycle starts (TAI ns) over every stream
	firstCycle, lastCycle int64
	Files                 []FileInfo
}

// New returns an empty Analyzer.
func New(o Options) *Analyzer {
	return &Analyzer{opts: o, streams: map[uint32]*stream{}}
}

const ringLen = 4096 // tx records remembered for their tx timestamps and drops

type txSlot struct {
	seq           uint64
	cycle, txtime int64
	sendCall      int64
	txTS, rxTS    int64 // the packet's TX and RX timestamps, once known: path delay when both are
}

type stream struct {
	id uint32

	// warm-up: sequence numbers below warmEnd are left out once warmKnown
	firstSeq   uint64
	firstCycle int64
	started    bool
	warmKnown  bool
	warmEnd    uint64
	warmTx     uint64 // sent packets left out
	warmRx     uint64 // received packets left out

	// receiver side
	rx                   seqtrack.Tracker
	rxRecords            uint64
	hwRx, swRx, noRxTime uint64
	vlanTCI              int64 // last seen, -1: untagged or none
	sched, rtRx, txToRx  Dist
	pathDelay            Dist // RX timestamp − TX timestamp (sender's and receiver's logs read together)
	schedSeries, rtRxSer Series
	rxErrors             uint64

	// sender side
	sent                  uint64
	seqLo, seqHi          uint64
	rtTx, wake, txErr     Dist
	rtTxSer               Series
	drops, dropsMissed    uint64
	dropsInvalid          uint64
	dropList              []ETFDrop // the first MaxDropsListed
	etfDelta              int64     // the software ETF's delta, from the sender's header; 0: unknown
	outsidePlanned        uint64
	premature, late       uint64
	windowFromTxTimestamp bool
	notLocked             uint64
	txTimestamps, hwTx    uint64
	ring                  []txSlot // ringLen, once the stream has tx records
	window                *window
	cycleLen              int64  // from the sender's header; 0: unknown
	lastTxCycle           int64  // the latest cycle start sent
	cyclesSkipped         uint64 // cycles between sent ones that sent nothing

	// against the plan (Options.Plan)
	plan          *StreamPlan
	planTxOutside uint64 // txtimes outside the plan's window
	overDeadline  uint64 // received after the plan's deadline
}

type window struct{ start, end int64 }

// MaxStreams bounds the streams of one run (a corrupt file must not make one per record).
const MaxStreams = 64

func (a *Analyzer) stream(id uint32) *stream {
	if s := a.last; s != nil && s.id == id {
		return s
	}
	s := a.streams[id]
	if s == nil {
		if len(a.streams) == MaxStreams {
			a.tooMany++
			return nil
		}
		s = &stream{id: id, vlanTCI: -1, plan: a.planOf(id)}
		if p := s.plan; p != nil {
			s.window, s.cycleLen = &window{p.Open, p.Close}, p.Period
		}
		a.streams[id] = s
	}
	a.last = s
	return s
}

// useHeader takes what a log's header says about its stream: a sender's transmit window, so that
// TX timestamps can be judged premature or late.
func (a *Analyzer) useHeader(h *samplelog.Header) {
	if h.Role != samplelog.RoleSend || h.Send == nil {
		return
	}
	s := a.stream(h.Stream)
	if s == nil || s.plan != nil {
		return
	}
	if p := h.Send; p.WindowEnd > p.WindowStart {
		s.window = &window{p.WindowStart, p.WindowEnd}
	}
	s.etfDelta = h.Send.ETFDelta
	s.cycleLen = h.Send.Cycle
}

// warm reports whether a record of seq (with its cycle start, 0 if unknown) is in the warm-up.
func (a *Analyzer) warm(s *stream, seq uint64, cycle int64) bool {
	if a.opts.WarmupPackets == 0 && a.opts.WarmupTime == 0 {
		return false // no warm-up: a packet that overtook the first is not left out either
	}
	if !s.started {
		s.started, s.firstSeq, s.firstCycle = true, seq, cycle
		if a.opts.WarmupTime == 0 {
			s.warmKnown, s.warmEnd = true, seq+a.opts.WarmupPackets
		}
	}
	if !s.warmKnown {
		if s.firstCycle == 0 {
			s.firstCycle = cycle
		}
		if cycle == 0 || cycle-s.firstCycle < int64(a.opts.WarmupTime) {
			return true
		}
		s.warmKnown, s.warmEnd = true, max(seq, s.firstSeq+a.opts.WarmupPackets)
	}
	return seq < s.warmEnd
}

// maxTime is the latest time a record may carry (2^62 ns after the epoch: the year 2116). Times
// beyond it, or negative, come from a corrupt log; differences of such times would overflow.
const maxTime = 1 << 62

// plausible reports whether r's times are possible times (0 is "not taken").
func plausible(r *samplelog.Record) bool {
	ok := func(t int64) bool { return t >= 0 && t <= maxTime }
	switch r.Type {
	case samplelog.TypeTx:
		return ok(r.CycleStart) && ok(r.Wakeup) && ok(r.SendCall) && ok(r.Txtime) && ok(r.PlannedWakeup)
	case samplelog.TypeRx:
		return ok(r.CycleStart) && ok(r.Wakeup) && ok(r.SendCall) && ok(r.Txtime) && ok(r.Timestamp)
	case samplelog.TypeTxTimestamp:
		return ok(r.Timestamp)
	}
	return true
}

// Add accounts for one record.
func (a *Analyzer) Add(r *samplelog.Record) {
	if !plausible(r) {
		a.corrupt++
		return
	}
	s := a.stream(r.Stream)
	if s == nil {
		return
	}
	if c := r.CycleStart; (r.Type == samplelog.TypeTx || r.Type == samplelog.TypeRx) && c != 0 {
		if a.firstCycle == 0 || c < a.firstCycle {
			a.firstCycle = c
		}
		a.lastCycle = max(a.lastCycle, c)
	}
	switch r.Type {
	case samplelog.TypeRx:
		a.addRx(s, r)
	case samplelog.TypeTx:
		a.addTx(s, r)
	case samplelog.TypeTxTimestamp:
		s.addTxTimestamp(r)
	case samplelog.TypeETFDrop:
		s.addDrop(r)
	}
}

// addRx accounts for a received packet: the application's latency the packet carries, and its
// scheduled time (the RX timestamp in its cycle), matched with its TX timestamp for the path.
func (a *Analyzer) addRx(s *stream, r *samplelog.Record) {
	s.rxRecords++
	if a.warm(s, r.Seq, r.CycleStart) {
		s.warmRx++
		return
	}
	if dup, _ := s.rx.Add(r.Seq, r.CycleStart); dup {
		return
	}
	if r.Flags&samplelog.FlagVLAN != 0 {
		s.vlanTCI = int64(r.TCI)
	}
	if r.SendCall != 0 && r.CycleStart != 0 { // 0: not taken (netlatency's epoch time)
		rt := r.SendCall - r.CycleStart
		s.rtRx.Add(rt)
		s.rtRxSer.Add(r.Seq, rt)
	}
	if r.Timestamp == 0 {
		s.noRxTime++
		return
	}
	if r.Flags&samplelog.FlagHardware != 0 {
		s.hwRx++
	} else {
		s.swRx++
	}
	if r.CycleStart == 0 {
		s.noRxTime++ // no cycle start to measure against
		return
	}
	st := r.Timestamp - r.CycleStart
	s.sched.Add(st)
	s.schedSeries.Add(r.Seq, st)
	if r.Flags&samplelog.FlagTxtime != 0 && r.Txtime != 0 {
		s.txToRx.Add(r.Timestamp - r.Txtime)
	}
	if s.plan != nil && st > s.plan.Deadline {
		s.overDeadline++
	}
	if s.ring != nil {
		if slot := &s.ring[r.Seq%ringLen]; slot.seq == r.Seq && slot.cycle != 0 {
			slot.rxTS = r.Timestamp
			if slot.txTS != 0 {
				s.pathDelay.Add(slot.rxTS - slot.txTS)
			}
		}
	}
}

// addTx accounts for a sent packet: the application's latency and wake-up, skipped cycles, and
// where the sender planned it against the window. Its slot in the ring waits for the packet's TX
// timestamp, ETF drop or reception.
func (a *Analyzer) addTx(s *stream, r *samplelog.Record) {
	if s.ring == nil {
		s.ring = make([]txSlot, ringLen)
	}
	slot := &s.ring[r.Seq%ringLen]
	*slot = txSlot{seq: r.Seq, cycle: r.CycleStart, txtime: r.Txtime, sendCall: r.SendCall}
	if a.warm(s, r.Seq, r.CycleStart) {
		slot.cycle = 0 // its timestamp and drop are in the warm-up too
		s.warmTx++
		return
	}
	if s.sent == 0 || r.Seq < s.seqLo {
		s.seqLo = r.Seq
	}
	s.seqHi = max(s.seqHi, r.Seq)
	s.sent++
	if c := r.CycleStart; s.cycleLen > 0 && c > 0 {
		// c-lastTxCycle cannot overflow (both positive), lastTxCycle+cycleLen could (a header's
		// cycle near the int64 limit): the gap is at least 2 cycles, the count at least 1. A cycle
		// start going backwards is no gap; the counts add up to at most the cycles spanned.
		if s.lastTxCycle > 0 && c-s.lastTxCycle > s.cycleLen {
			s.cyclesSkipped += uint64((c-s.lastTxCycle)/s.cycleLen - 1)
		}
		s.lastTxCycle = max(s.lastTxCycle, c)
	}
	if r.SendCall != 0 && r.CycleStart != 0 {
		rt := r.SendCall - r.CycleStart
		s.rtTx.Add(rt)
		s.rtTxSer.Add(r.Seq, rt)
	}
	if r.PlannedWakeup != 0 {
		s.wake.Add(r.Wakeup - r.PlannedWakeup)
	}
	if r.Flags&samplelog.FlagNotLocked != 0 {
		s.notLocked++
	}
	if p := s.plan; p != nil && r.Txtime != 0 && r.CycleStart != 0 {
		if off := r.Txtime - r.CycleStart; off < p.Open || off >= p.Close {
			s.planTxOutside++
		}
	}
	if r.Flags&samplelog.FlagOutsideWindow != 0 {
		s.outsidePlanned++
		if !s.windowFromTxTimestamp && s.window != nil {
			if r.Txtime-r.CycleStart < s.window.start {
				s.premature++
			} else {
				s.late++
			}
		}
	}
}

// addTxTimestamp accounts for a packet's TX timestamp: the path to the receiver, the txtime
// error, and the window judged by when the packet really left (measured beats planned).
func (s *stream) addTxTimestamp(r *samplelog.Record) {
	if s.ring == nil {
		return
	}
	slot := &s.ring[r.Seq%ringLen]
	if slot.seq != r.Seq || slot.cycle == 0 {
		return // unknown or warm-up packet
	}
	s.txTimestamps++
	if r.Flags&samplelog.FlagHardware != 0 {
		s.hwTx++
	}
	slot.txTS = r.Timestamp
	if slot.rxTS != 0 {
		s.pathDelay.Add(slot.rxTS - slot.txTS)
	}
	if slot.txtime != 0 {
		s.txErr.Add(r.Timestamp - slot.txtime)
	}
	if s.window != nil {
		if !s.windowFromTxTimestamp { // measured beats planned: start counting over
			s.windowFromTxTimestamp, s.premature, s.late = true, 0, 0
		}
		switch off := r.Timestamp - slot.cycle; {
		case off < s.window.start:
			s.premature++
		case off >= s.window.end:
			s.late++
		}
	}
}

// addDrop counts an ETF drop, unless it is a warm-up packet's.
func (s *stream) addDrop(r *samplelog.Record) {
	known := s.ring != nil && s.ring[r.Seq%ringLen].seq == r.Seq
	if known && s.ring[r.Seq%ringLen].cycle == 0 || !known && (!s.warmKnown || r.Seq < s.warmEnd) {
		return // a warm-up packet's
	}
	s.drops++
	if r.Flags&samplelog.FlagDropMissed != 0 {
		s.dropsMissed++
	}
	if r.Flags&samplelog.FlagDropInvalid != 0 {
		s.dropsInvalid++
	}
	if known && len(s.dropList) < MaxDropsListed {
		s.dropList = append(s.dropList, dropOf(r, &s.ring[r.Seq%ringLen], s.etfDelta))
	}
}

// MaxDropsListed bounds the ETF drops a stream's result lists one by one (all are counted).
const MaxDropsListed = 100

// ETFDrop is one packet a software ETF dropped, with what says whose delay it was: "invalid" (it
// reached ETF after its txtime: the sender was late, by HandedOver, or when it handed the packet
// over in time, the send path in the kernel) or "missed" (its txtime passed while ETF held it: the
// kernel released it late). A release is due at txtime − delta, or at once
// when the packet came later; a missed packet's came after its txtime, so more than ReleaseLate
// after it was due.
type ETFDrop struct {
	Seq         uint64 `json:"seq"`
	Code        string `json:"code"`                           // missed or invalid (the error queue's code)
	Txtime      int64  `json:"txtime_ns"`                      // in its cycle
	HandedOver  int64  `json:"handed_over_ns"`                 // the send call − txtime: negative, before it
	ETFDelta    int64  `json:"etf_delta_ns"`                   // the sender's header's, 0: unknown
	ReleaseLate *int64 `json:"release_late_over_ns,omitempty"` // missed, with ETFDelta known
}

// Whose says whose delay the drop was: the sender's (it handed the packet over after the txtime)
// or the kernel's (its send path, or ETF's release, came after it).
func (d ETFDrop) Whose() string {
	switch {
	case d.Code == "invalid" && d.HandedOver >= 0:
		return "the sender's: it sent after the txtime"
	case d.Code == "invalid":
		return "the kernel's: its send path reached ETF after the txtime"
	}
	return "the kernel's: ETF released it after its txtime"
}

// Shown says what the drop tells, times in µs (written us).
func (d ETFDrop) Shown(us string) string {
	if d.Code == "invalid" && d.HandedOver >= 0 {
		return fmt.Sprintf("seq %d invalid: handed to the kernel %s %s after its txtime (%s %s in its cycle): the sender was late",
			d.Seq, Micros(float64(d.HandedOver)), us, Micros(float64(d.Txtime)), us)
	}
	if d.Code == "invalid" {
		return fmt.Sprintf("seq %d invalid: handed to the kernel %s %s before its txtime (%s %s in its cycle), but it reached ETF after it: the send path was delayed",
			d.Seq, Micros(float64(-d.HandedOver)), us, Micros(float64(d.Txtime)), us)
	}
	out := fmt.Sprintf("seq %d missed: its txtime (%s %s in its cycle) passed in the queue; handed to the kernel %s %s before it",
		d.Seq, Micros(float64(d.Txtime)), us, Micros(float64(-d.HandedOver)), us)
	if d.ReleaseLate != nil {
		out += fmt.Sprintf("; ETF's release (delta %s %s) came over %s %s late", Micros(float64(d.ETFDelta)), us, Micros(float64(*d.ReleaseLate)), us)
	}
	return out
}

func dropOf(r *samplelog.Record, slot *txSlot, delta int64) ETFDrop {
	d := ETFDrop{Seq: r.Seq, Code: "missed", Txtime: slot.txtime - slot.cycle, HandedOver: slot.sendCall - slot.txtime, ETFDelta: delta}
	if r.Flags&samplelog.FlagDropInvalid != 0 {
		d.Code = "invalid"
	} else if delta > 0 && slot.sendCall != 0 {
		late := max(0, min(delta, -d.HandedOver))
		d.ReleaseLate = &late
	}
	return d
}

// streamIDs returns the streams in ascending order.
func (a *Analyzer) streamIDs() []uint32 { return slices.Sorted(maps.Keys(a.streams)) }

// ParseWarmup reads --warmup: a number of packets (500) or a duration (2s, 100ms).
func ParseWarmup(s string) (Options, error) {
	if s == "" || s == "0" {
		return Options{}, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return Options{WarmupPackets: n}, nil
	}
	d, err := time.ParseDuration(strings.ReplaceAll(s, "µ", "u"))
	if err != nil || d < 0 {
		return Options{}, param.Errorf("warmup", strconv.Quote(s), "want a number of packets (500) or a duration (2s, 100ms)")
	}
	return Options{WarmupTime: d}, nil
}
