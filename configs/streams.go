package configs

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/frame"
	"github.com/tsnctl/tsnctl/ifname"
	"github.com/tsnctl/tsnctl/taprio"
	"github.com/tsnctl/tsnctl/wire"
	"go.yaml.in/yaml/v3"
)

// Stream is one scheduled stream a talker on this node sends: what `tsnctl plan` turns, with the
// other streams of its interface, into that interface's schedule (traffic classes, priority map,
// VLAN egress map, taprio gate list, ETF).
type Stream struct {
	Name string `yaml:"name" json:"name"`
	// Interface is the talker's port (its taprio carries the stream).
	Interface ifname.Name `yaml:"interface" json:"interface"`
	// Dest is where the stream goes: host:port (UDP over IPv4) or a MAC address (raw 802.1Q).
	Dest string `yaml:"dest" json:"dest"`
	// VLAN is the 802.1Q VLAN id the stream is sent on (the VLAN is created if the interface does
	// not list it).
	VLAN uint16 `yaml:"vlan" json:"vlan"`
	// PCP is the 802.1Q priority on the wire (0-7); absent: 6, or 3 for class A and 2 for class B
	// (802.1Q's default priorities of the stream reservation classes).
	PCP *uint8 `yaml:"pcp,omitempty" json:"pcp,omitempty"`
	// Class makes the stream credit-shaped: 802.1Qav's stream reservation class A or B. plan then
	// reserves its bandwidth with a cbs under an mqprio instead of giving it a taprio window; the
	// streams of one interface all have a class or none do.
	Class SRClass `yaml:"class,omitempty" json:"class,omitempty"`
	// Period is the time between the starts of two of the stream's periods.
	Period Duration `yaml:"period" json:"period"`
	// Frames is the number of frames sent in each period (1 when absent).
	Frames int `yaml:"frames,omitempty" json:"frames,omitempty"`
	// Size is each frame's payload in bytes (the UDP payload, or the Ethernet payload after the
	// 802.1Q tag for a raw stream).
	Size int `yaml:"size" json:"size"`
	// Offset is the earliest transmit time in each period.
	Offset Duration `yaml:"offset,omitempty" json:"offset,omitempty"`
	// MaxLatency is the deadline: the stream's last frame of a period is on the wire by
	// offset + max-latency.
	MaxLatency Duration `yaml:"max-latency" json:"max-latency"`
	Pos        `yaml:"-" json:"-"`
}

// A stream's payload size: at least the header tsnctl's sender writes in every frame (sequence,
// stream id, timestamps: package wire), at most a jumbo frame's payload.
const (
	MinStreamSize = wire.Len
	MaxStreamSize = 9000
)

// UDP reports whether the stream is UDP over IPv4 (Dest host:port), not raw 802.1Q (Dest a MAC).
func (s *Stream) UDP() bool {
	_, err := net.ParseMAC(s.Dest)
	return err != nil
}

// PeriodBits is the bits one period of the stream puts on the wire: its frames with headers, tag,
// padding, FCS, preamble and gap (frame.Bytes).
func (s *Stream) PeriodBits() int64 {
	return int64(s.FramesOrOne()) * int64(frame.Bytes(s.Size, s.UDP())) * 8
}

// Bandwidth is the stream's rate on the wire in bit/s, exactly (PeriodBits per period): what a
// credit-based shaper must reserve for it.
func (s *Stream) Bandwidth() *big.Rat {
	return big.NewRat(s.PeriodBits()*int64(time.Second), int64(s.Period))
}

// FramesOrOne is Frames, or 1 when absent.
func (s *Stream) FramesOrOne() int { return max(s.Frames, 1) }

// PCPOrDefault is the stream's PCP, or when absent 6 (the seed's) for a time-scheduled stream, 3
// for class A and 2 for class B.
func (s *Stream) PCPOrDefault() uint8 {
	switch {
	case s.PCP != nil:
		return *s.PCP
	case s.Class == ClassA:
		return 3
	case s.Class == ClassB:
		return 2
	}
	return 6
}

// SRClass is a stream reservation class of IEEE 802.1Q (802.1Qav's credit-based shaping): A, the
// higher, or B; NoClass for a time-scheduled stream.
type SRClass uint8

// The stream reservation classes.
const (
	NoClass SRClass = iota
	ClassA
	ClassB
)

// String is the class's letter ("" for NoClass).
func (c SRClass) String() string {
	switch c {
	case ClassA:
		return "A"
	case ClassB:
		return "B"
	}
	return ""
}

// UnmarshalYAML reads A or B (a or b).
func (c *SRClass) UnmarshalYAML(n *yaml.Node) error {
	switch strings.ToUpper(n.Value) {
	case "A":
		*c = ClassA
	case "B":
		*c = ClassB
	default:
		return valueError(n, "A or B, 802.1Q's stream reservation classes (absent: a time-scheduled stream)")
	}
	return nil
}

// MarshalYAML writes the letter.
func (c SRClass) MarshalYAML() (any, error) { return c.String(), nil }

// MarshalJSON writes the letter.
func (c SRClass) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// Planning holds what `tsnctl plan` needs to know of an interface that carries streams, and what
// it does not measure itself: inputs, not measurements.
type Planning struct {
	// Mode is the taprio mode the plan is for: software (the default, as the seed; windows open
	// etf-delta before each txtime), txtime-assist or full-offload (launch-time offload: windows
	// open at the txtime).
	Mode taprio.Mode `yaml:"mode,omitempty" json:"mode,omitempty"`
	// ETFDelta is the ETF delta: how long before its txtime a frame is released (tsnctl calibrate
	// delta measures it). Absent: 300us.
	ETFDelta *Duration `yaml:"etf-delta,omitempty" json:"etf-delta,omitempty"`
	// SpeedMbps is the link speed the windows are computed for, in Mb/s. Absent: 1000.
	SpeedMbps int `yaml:"speed,omitempty" json:"speed,omitempty"`
	// BestEffort is the share of every cycle kept for best-effort traffic, in percent (0-99).
	BestEffort int `yaml:"best-effort,omitempty" json:"best-effort,omitempty"`
	// Preemption makes the best-effort class preemptible (802.1Qbu: fp P, the streams' class E),
	// so that a guard band need only hold the rest of a fragment, not a whole frame. The NIC
	// preempts: mode full-offload, on a NIC with a MAC merge layer.
	Preemption bool `yaml:"preemption,omitempty" json:"preemption,omitempty"`
	// MinFrag is the NIC's smallest fragment, ethtool --set-mm's tx-min-frag-size: 60 (absent),
	// 124, 188 or 252 bytes (without the fragment's 4-byte CRC).
	MinFrag int `yaml:"min-frag,omitempty" json:"min-frag,omitempty"`
	// Cycle is the schedule's cycle; absent: the hyperperiod (the least common multiple of the
	// streams' periods). Given, it must be a multiple of the hyperperiod.
	Cycle *Duration `yaml:"cycle,omitempty" json:"cycle,omitempty"`
	// Admission reserves the interface for streams that applications add at run time through the
	// agent's admission socket (tsnctl stream add).
	Admission *Admission `yaml:"admission,omitempty" json:"admission,omitempty"`
	Pos       `yaml:"-" json:"-"`
}

// Admission is what an interface reserves for streams admitted at run time. All of it is installed
// with the interface's first configuration (the priority map sends the PCPs' socket priorities to
// the streams' traffic class, and each VLAN exists with an egress-qos-map entry per PCP), so that
// admitting or removing a stream changes only the taprio schedule, in place, at a new base-time:
// no root is replaced and no child grafted, and the running streams lose nothing.
type Admission struct {
	// VLANs are the VLAN ids admitted streams may be sent on.
	VLANs []uint16 `yaml:"vlans" json:"vlans"`
	// PCP are the 802.1Q priorities admitted streams may use (1-7); absent: [6]. A stream that
	// gives none gets the first.
	PCP []uint8 `yaml:"pcp,omitempty" json:"pcp,omitempty"`
	// MaxStreams bounds the streams admitted on the interface at one time; absent: 16.
	MaxStreams int `yaml:"max-streams,omitempty" json:"max-streams,omitempty"`
	Pos        `yaml:"-" json:"-"`
}

// Admission's defaults and bounds.
const (
	DefaultAdmissionPCP        = 6
	DefaultAdmissionMaxStreams = 16
	MaxAdmissionStreams        = 64
)

// PCPs are the reserved PCPs, or [6] when none are given.
func (a *Admission) PCPs() []uint8 {
	if len(a.PCP) == 0 {
		return []uint8{DefaultAdmissionPCP}
	}
	return a.PCP
}

// Limit is MaxStreams, or its default.
func (a *Admission) Limit() int {
	if a.MaxStreams == 0 {
		return DefaultAdmissionMaxStreams
	}
	return a.MaxStreams
}

// Admits reports whether the interface ifc of c takes streams at run time, and its reservation.
func Admits(c *Config, iface ifname.Name) (*Admission, bool) {
	for i := range c.Interfaces {
		if ifc := &c.Interfaces[i]; ifc.Name == iface && ifc.Plan != nil && ifc.Plan.Admission != nil {
			return ifc.Plan.Admission, true
		}
	}
	return nil, false
}

// DefaultMinFrag is plan: min-frag when it is absent: 802.3br's smallest fragment.
const DefaultMinFrag = 60

// MinFragOrDefault is the smallest fragment the plan is for.
func (p *Planning) MinFragOrDefault() int {
	if p != nil && p.MinFrag > 0 {
		return p.MinFrag
	}
	return DefaultMinFrag
}

// DefaultSpeedMbps is the link speed a plan assumes when plan: gives none.
const DefaultSpeedMbps = 1000

// Speed is the link speed the plan is for: SpeedMbps, or DefaultSpeedMbps (also for a nil p).
func (p *Planning) Speed() int {
	if p != nil && p.SpeedMbps > 0 {
		return p.SpeedMbps
	}
	return DefaultSpeedMbps
}

// checkStreams refuses what a stream cannot mean, naming the field: the planner then only has to
// judge whether the streams fit.
func checkStreams(c *Config) error {
	names := map[string]bool{}
	for i := range c.Streams {
		s := &c.Streams[i]
		p := fmt.Sprintf("streams[%d]", i)
		if names[s.Name] {
			return &Error{File: s.File, Line: s.LineOf("name"), Field: p + ".name", Value: s.Name, Msg: "two streams have this name"}
		}
		if err := s.Check(p); err != nil {
			return err
		}
		names[s.Name] = true
		if !slices.ContainsFunc(c.Interfaces, func(ifc Interface) bool { return ifc.Name == s.Interface }) {
			return &Error{File: s.File, Line: s.LineOf("interface"), Field: p + ".interface", Value: string(s.Interface),
				Msg: "no interface of this name in interfaces: list it there (its channels and VLANs may be written; plan writes its taprio and ETF)"}
		}
	}
	for i := range c.Interfaces {
		ifc := &c.Interfaces[i]
		carries := slices.ContainsFunc(c.Streams, func(s Stream) bool { return s.Interface == ifc.Name })
		shaped := CreditShaped(c, ifc.Name)
		p := fmt.Sprintf("interfaces[%d]", i)
		writes := "taprio: and etf:"
		if shaped {
			writes = "mqprio: and cbs:"
		}
		if carries {
			// One kind of stream per interface: all credit-shaped or all time-scheduled.
			first := -1
			for j := range c.Streams {
				s := &c.Streams[j]
				switch {
				case s.Interface != ifc.Name:
				case first < 0:
					first = j
				case (s.Class == NoClass) != (c.Streams[first].Class == NoClass):
					v := s.Class.String()
					if v == "" {
						v = "(none)"
					}
					return &Error{File: s.File, Line: s.LineOf("class"), Field: fmt.Sprintf("streams[%d].class", j), Value: v,
						Msg: fmt.Sprintf("stream %s has a class and stream %s has none, both on %s: an interface's streams are all credit-shaped (class A or B: plan writes an mqprio and cbs) or all time-scheduled (no class: a taprio and etf); give both a class or neither, or send them on different interfaces",
							named(s.Class != NoClass, s, &c.Streams[first]), named(s.Class == NoClass, s, &c.Streams[first]), ifc.Name)}
				}
			}
		}
		admits := ifc.Plan != nil && ifc.Plan.Admission != nil
		switch {
		case (carries || admits) && (ifc.Taprio != nil || len(ifc.ETF) > 0 || ifc.Mqprio != nil || shaped && len(ifc.CBS) > 0):
			key := "taprio"
			switch {
			case ifc.Mqprio != nil:
				key = "mqprio"
			case ifc.Taprio == nil && len(ifc.ETF) > 0:
				key = "etf"
			case ifc.Taprio == nil:
				key = "cbs"
			}
			what := "carries streams"
			if !carries {
				what = "admits streams (plan: admission:)"
			}
			return &Error{File: ifc.File, Line: ifc.LineOf(key), Field: p + "." + key,
				Msg: "this interface " + what + ": tsnctl plan writes its " + writes + "; remove " + key + ": (or the streams)"}
		case !carries && !admits && ifc.Plan != nil:
			return &Error{File: ifc.File, Line: ifc.LineOf("plan"), Field: p + ".plan", Msg: "no stream is sent on this interface: plan: applies to an interface that carries streams or admits them (admission:)"}
		}
		if admits {
			if err := checkAdmission(ifc.Plan.Admission, p+".plan.admission", shaped, ifc.Plan.Mode); err != nil {
				return err
			}
		}
		if pl := ifc.Plan; pl != nil {
			bad := func(key, value, msg string) error {
				return &Error{File: pl.File, Line: pl.LineOf(key), Field: p + ".plan." + key, Value: value, Msg: msg}
			}
			if shaped {
				// What only a taprio plan takes.
				for _, k := range []struct {
					key, value string
					set        bool
				}{{"mode", pl.Mode.String(), pl.Mode != taprio.Software}, {"etf-delta", durString(pl.ETFDelta), pl.ETFDelta != nil}, {"cycle", durString(pl.Cycle), pl.Cycle != nil},
					{"preemption", fmt.Sprint(pl.Preemption), pl.Preemption}, {"min-frag", fmt.Sprint(pl.MinFrag), pl.MinFrag != 0}} {
					if k.set {
						return bad(k.key, k.value, "the streams on "+string(ifc.Name)+" are credit-shaped (class A or B): plan writes an mqprio and cbs, without gates, ETF or a cycle; remove "+k.key+" (speed and best-effort apply)")
					}
				}
			}
			switch {
			case pl.ETFDelta != nil && *pl.ETFDelta <= 0:
				return bad("etf-delta", pl.ETFDelta.String(), "want a positive delta (tsnctl calibrate delta measures one)")
			case pl.SpeedMbps < 0:
				return bad("speed", fmt.Sprint(pl.SpeedMbps), "want the link speed in Mb/s, e.g. 1000")
			case pl.BestEffort < 0 || pl.BestEffort > 99:
				return bad("best-effort", fmt.Sprint(pl.BestEffort), "want a share of the cycle from 0 to 99 (percent)")
			case pl.Cycle != nil && *pl.Cycle <= 0:
				return bad("cycle", pl.Cycle.String(), "want a positive cycle")
			case pl.Preemption && pl.Mode != taprio.FullOffload:
				return bad("preemption", "true", "frame preemption is the NIC's: taprio takes it in full-offload mode only; add mode: full-offload (on a NIC with a MAC merge layer), or remove preemption")
			case pl.MinFrag != 0 && !pl.Preemption:
				return bad("min-frag", fmt.Sprint(pl.MinFrag), "the smallest fragment matters with preemption: true only")
			case pl.MinFrag != 0 && (pl.MinFrag < 60 || pl.MinFrag > 252):
				return bad("min-frag", fmt.Sprint(pl.MinFrag), "want the NIC's tx-min-frag-size: 60, 124, 188 or 252 bytes")
			}
		}
	}
	return nil
}

// Check refuses what the stream cannot mean, naming the field under prefix (streams[0], or stream
// for one an application asks the agent for): the loader's check of each stream, and the
// agent's of each admitted one.
func (s *Stream) Check(prefix string) error {
	bad := func(key, value, msg string) error {
		return &Error{File: s.File, Line: s.LineOf(key), Field: prefix + "." + key, Value: value, Msg: msg}
	}
	switch {
	case s.Name == "":
		return bad("name", "", "missing: name the stream (tsnctl send --stream NAME sends it)")
	case len(s.Name) > MaxStreamName || strings.ContainsFunc(s.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return bad("name", s.Name, fmt.Sprintf("want a name of at most %d characters without control characters", MaxStreamName))
	case s.Interface == "":
		return bad("interface", "", "missing: the talker's port, e.g. interface: eth1")
	case s.Dest == "":
		return bad("dest", "", "missing: host:port (UDP over IPv4) or a MAC address (raw 802.1Q)")
	case s.VLAN < 1 || s.VLAN > 4094:
		return bad("vlan", fmt.Sprint(s.VLAN), "want a VLAN id from 1 to 4094")
	case s.PCP != nil && *s.PCP > 7:
		return bad("pcp", fmt.Sprint(*s.PCP), "want a PCP from 0 to 7")
	case s.Period <= 0:
		return bad("period", s.Period.String(), "want a positive period, e.g. 2ms")
	case s.Frames < 0:
		return bad("frames", fmt.Sprint(s.Frames), "want 1 or more frames per period")
	case s.Size < MinStreamSize || s.Size > MaxStreamSize:
		return bad("size", fmt.Sprint(s.Size), fmt.Sprintf("want a payload of %d (tsnctl's packet header, which send --stream writes in every frame) to %d bytes", MinStreamSize, MaxStreamSize))
	case s.Offset < 0 || s.Offset >= s.Period:
		return bad("offset", s.Offset.String(), "want an offset from 0 to less than the period "+s.Period.String())
	case s.MaxLatency <= 0:
		return bad("max-latency", s.MaxLatency.String(), "want a positive deadline after the offset, e.g. 100us")
	case s.Offset+s.MaxLatency > s.Period:
		return bad("max-latency", s.MaxLatency.String(), "offset + max-latency passes the end of the period "+s.Period.String()+": a frame would meet the next period's")
	}
	if s.UDP() {
		// IPv4 only: plan counts an IPv4 header's bytes on the wire.
		if ap, err := netip.ParseAddrPort(s.Dest); err != nil || !ap.Addr().Is4() {
			return bad("dest", s.Dest, "want host:port with an IPv4 address (10.0.0.2:7788), or a MAC address (raw 802.1Q)")
		}
	}
	return nil
}

// checkAdmission refuses a reservation that cannot be installed from the start or changed in place.
func checkAdmission(a *Admission, field string, shaped bool, mode taprio.Mode) error {
	bad := func(key, value, msg string) error {
		f := field
		if key != "" {
			f += "." + key
		}
		return &Error{File: a.File, Line: a.LineOf(key), Field: f, Value: value, Msg: msg}
	}
	switch {
	case shaped:
		return bad("", "", "admission takes time-scheduled streams (a taprio window each); this interface's streams are credit-shaped (class A or B): remove admission:, or the streams' class")
	case mode == taprio.FullOffload:
		return bad("", "", "a full-offload schedule is replaced, not changed in place, so admitting a stream would interrupt the running ones: admission takes modes software and txtime-assist")
	case len(a.VLANs) == 0:
		return bad("vlans", "", "missing: the VLAN ids admitted streams may be sent on, e.g. vlans: [3]")
	case a.MaxStreams < 0 || a.MaxStreams > MaxAdmissionStreams:
		return bad("max-streams", fmt.Sprint(a.MaxStreams), fmt.Sprintf("want 1 to %d streams (absent: %d)", MaxAdmissionStreams, DefaultAdmissionMaxStreams))
	}
	for _, v := range a.VLANs {
		if v < 1 || v > 4094 {
			return bad("vlans", fmt.Sprint(v), "want VLAN ids from 1 to 4094")
		}
	}
	for _, p := range a.PCP {
		if p < 1 || p > 7 {
			return bad("pcp", fmt.Sprint(p), "want PCPs from 1 to 7 (0 is best effort's)")
		}
	}
	return nil
}

// MaxStreamName bounds a stream's name (it names sockets' owners in the agent's status and logs).
const MaxStreamName = 64

// CreditShaped reports whether the streams c sends on iface are credit-shaped (they have an SR
// class; configs refuses an interface whose streams mix both kinds).
func CreditShaped(c *Config, iface ifname.Name) bool {
	return slices.ContainsFunc(c.Streams, func(s Stream) bool { return s.Interface == iface && s.Class != NoClass })
}

// named is a's name when first, else b's.
func named(first bool, a, b *Stream) string {
	if first {
		return a.Name
	}
	return b.Name
}

func durString(d *Duration) string {
	if d == nil {
		return ""
	}
	return d.String()
}
