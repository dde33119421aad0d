package plan

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/cbs"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/frame"
	"github.com/tsnctl/tsnctl/lint"
)

// Credit-shaped streams (a class: A or B) are planned as 802.1Qav shapes them: an mqprio root with
// a traffic class and TX queue per stream reservation class, class A first (the lowest queue is
// served first on i210 and i225, as lint's derived credits assume), best effort's after them,
// and a cbs per class whose idleslope is its streams' bandwidth on the wire. Their credits are
// left to tsnctl's derivation at the link's speed (802.1Q Annex L), so the shapers follow the
// link; the plan's bound is computed with the credits derived at the plan's speed.
//
// A stream's bound is its worst-case latency at this port, from its offset (when its application
// sends its period's frames at once) to its last frame's last bit, with every stream of its class
// sending its burst at the same moment:
//
//	bound = (8·hicredit + burst − frame) / idleslope + frame / port rate
//
// where burst is the bits on the wire of every frame of the class's streams in one of their
// periods, frame one frame of the stream, hicredit the class's (its largest wait behind lower
// classes and, for class B, class A, in credit: 802.1Q's L-10 and L-16). The shaper serves a
// backlogged class at idleslope: the frames ahead of the stream's last one, burst − frame bits,
// have cost their credit after (burst − frame)/idleslope, the last then goes at the port's rate;
// the class's idleslope is at least its streams' bandwidth, so later periods' frames do not
// add to the burst (a token bucket of that burst and rate bounds the class's arrivals).

// ClassRow is what the plan gives one stream reservation class of an interface.
type ClassRow struct {
	Interface string   `json:"interface"`
	Class     string   `json:"class"` // A or B
	Queue     int      `json:"queue"`
	Streams   []string `json:"streams"`
	// IdleSlope is the class's reservation in kbit/s: its streams' bandwidth on the wire (preamble
	// to inter-frame gap), rounded up.
	IdleSlope int64 `json:"idleslope"`
	// The credits tsnctl derives at the plan's speed (apply derives them at the link's).
	SendSlope int64 `json:"sendslope"`
	HiCredit  int64 `json:"hicredit"`
	LoCredit  int64 `json:"locredit"`
	SpeedMbps int   `json:"speed"`
}

// classed is a class being planned.
type classed struct {
	class configs.SRClass
	ss    []*configs.Stream
	rate  *big.Rat // bit/s on the wire
	burst int64    // bits on the wire of one period of each stream
	max   int      // the largest frame, header to FCS
}

// planCBS plans an interface whose streams are credit-shaped; see above.
func planCBS(ifc *configs.Interface, in []configs.Stream) ([]Row, []ClassRow, error) {
	name := string(ifc.Name)
	refuse := func(stream, constraint, format string, args ...any) error {
		return &Error{Interface: name, Stream: stream, Constraint: constraint, Msg: fmt.Sprintf(format, args...)}
	}
	pl := configs.Planning{}
	if ifc.Plan != nil {
		pl = *ifc.Plan
	}
	speed := pl.Speed()
	var classes []*classed
	prioClass := map[int]configs.SRClass{}
	for i := range in {
		s := &in[i]
		prio := int(s.PCPOrDefault())
		switch c, ok := prioClass[prio]; {
		case prio == 0:
			return nil, nil, refuse(s.Name, "priority", "PCP 0 would give it socket priority 0, best effort's: give pcp: 1 to 7 (class A's default is 3, class B's 2)")
		case ok && c != s.Class:
			return nil, nil, refuse(s.Name, "pcp", "class %s and class %s streams share PCP %d: a priority maps to one traffic class; give the classes different pcp: values", c, s.Class, prio)
		}
		prioClass[prio] = s.Class
		j := slices.IndexFunc(classes, func(c *classed) bool { return c.class == s.Class })
		if j < 0 {
			classes = append(classes, &classed{class: s.Class, rate: new(big.Rat)})
			j = len(classes) - 1
		}
		c := classes[j]
		c.ss = append(c.ss, s)
		c.burst += s.PeriodBits()
		c.rate.Add(c.rate, s.Bandwidth())
		c.max = max(c.max, frame.Bytes(s.Size, s.UDP())-frame.Preamble-frame.Gap)
	}
	slices.SortFunc(classes, func(a, b *classed) int { return int(a.class) - int(b.class) })

	// The reservation: 802.1Q lets the classes take 75 % of the port, and best effort keeps its
	// share.
	port := cbs.PortKbps(speed)
	limit := min(cbs.MaxReservedPercent, 100-pl.BestEffort)
	idle := make([]int64, len(classes))
	var reserved int64
	for i, c := range classes {
		kbps := new(big.Rat).Quo(c.rate, big.NewRat(1000, 1))
		idle[i] = new(big.Int).Quo(new(big.Int).Add(kbps.Num(), new(big.Int).Sub(kbps.Denom(), big.NewInt(1))), kbps.Denom()).Int64() // rounded up
		reserved += idle[i]
	}
	if reserved*100 > port*int64(limit) {
		return nil, nil, refuse("", "utilisation", "the streams' classes need %d kbit/s, %.1f %% of the %d Mb/s link, more than the %d %% they may reserve (802.1Q's 75 %%, less best effort's plan.best-effort): send fewer, smaller or rarer frames, or lower plan.best-effort",
			reserved, 100*float64(reserved)/float64(port), speed, limit)
	}

	// What the node installs: an mqprio, a cbs per class with derived credits; the credits at the
	// plan's speed give the bounds.
	m := make([]int, 16)
	for i := range m {
		m[i] = len(classes) // best effort: after the classes
	}
	var queues []configs.Queue
	ifc.CBS = nil
	for i, c := range classes {
		for _, s := range c.ss {
			m[s.PCPOrDefault()] = i
		}
		q, slope, mf := i, idle[i], int64(c.max)
		queues = append(queues, configs.Queue{Count: 1, Offset: uint16(i)})
		ifc.CBS = append(ifc.CBS, configs.CBS{Queue: &q, IdleSlope: &slope, MaxFrame: &mf, Offload: configs.OffloadAuto, Pos: ifc.Pos})
	}
	queues = append(queues, configs.Queue{Count: 1, Offset: uint16(len(classes))})
	ifc.Mqprio = &configs.Mqprio{NumTC: len(classes) + 1, Map: m, Queues: queues, Pos: ifc.Pos}
	ss := make([]*configs.Stream, len(in))
	for i := range in {
		ss[i] = &in[i]
	}
	if err := checkEgress(ifc, ss); err != nil {
		return nil, nil, err
	}
	writeVLANs(ifc, ss)
	ifc.Plan = nil
	opts, err := lint.CBSOptions(ifc, speed)
	if err != nil {
		return nil, nil, refuse("", "credits", "%v", err)
	}

	var rows []Row
	var crows []ClassRow
	for i, c := range classes {
		o := opts[i]
		cr := ClassRow{Interface: name, Class: c.class.String(), Queue: i, IdleSlope: idle[i], SendSlope: int64(o.SendSlope),
			HiCredit: int64(o.HiCredit), LoCredit: int64(o.LoCredit), SpeedMbps: speed}
		for _, s := range c.ss {
			cr.Streams = append(cr.Streams, s.Name)
			one := frame.Bytes(s.Size, s.UDP())
			// (8·hicredit + burst − frame) bits at idleslope kbit/s, in ns, rounded up.
			bits := 8*int64(o.HiCredit) + c.burst - int64(one)*8
			wait := new(big.Int).Mul(big.NewInt(bits), big.NewInt(int64(time.Second)/1000))
			wait.Add(wait, big.NewInt(idle[i]-1)).Quo(wait, big.NewInt(idle[i]))
			bound := time.Duration(wait.Int64()) + frame.Time(one, speed)
			if bound > time.Duration(s.MaxLatency) {
				return nil, nil, refuse(s.Name, "deadline", "class %s's worst case at %d Mb/s is %v (its %d-bit burst at idleslope %d kbit/s behind hicredit %d bytes, the last frame at the link's rate), more than max-latency %v: raise max-latency, send fewer or smaller frames in the class, or move the stream to class A",
					c.class, speed, bound, c.burst, idle[i], o.HiCredit, time.Duration(s.MaxLatency))
			}
			wire := time.Duration(s.FramesOrOne()) * frame.Time(one, speed)
			rows = append(rows, Row{Stream: s.Name, Interface: name, Class: c.class.String(), Priority: int(s.PCPOrDefault()), PCP: int(s.PCPOrDefault()), Queue: i,
				Period: time.Duration(s.Period), Txtime: time.Duration(s.Offset), Open: time.Duration(s.Offset), Close: time.Duration(s.Offset) + bound,
				Wire: wire, Bound: bound, Utilisation: float64(wire) / float64(s.Period)})
		}
		crows = append(crows, cr)
	}
	slices.SortFunc(rows, func(a, b Row) int { return strings.Compare(a.Stream, b.Stream) })
	return rows, crows, nil
}
