// Package mqprio encodes and decodes the netlink options (TCA_OPTIONS) of the mqprio qdisc, which
// maps socket priorities to traffic classes and traffic classes to ranges of TX queues, and, with
// hw 1, hands that (and a shaper) to the NIC. Layout from <linux/pkt_sched.h>: the options are
// not a nest of attributes but struct tc_mqprio_qopt (82 bytes), padded to 4, then attributes:
// TCA_MQPRIO_MODE, _SHAPER, _MIN_RATE64 and _MAX_RATE64 (nests of one u64 per traffic class) and
// one TCA_MQPRIO_TC_ENTRY nest per traffic class (its index and frame-preemption state). The kernel
// refuses attributes with hw 0 ("mqprio TCA_OPTIONS can only contain netlink attributes in hardware
// mode") and dumps 16 TC entries (6.8 and later).
//
// github.com/florianl/go-tc has an mqprio, but encodes the rates as a flat u64 rather than a nest
// of one per class; this codec is checked against iproute2's recorded request.
package mqprio

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
)

// Kind is the qdisc kind string.
const Kind = "mqprio"

// MaxClasses is TC_QOPT_MAX_QUEUE, the most traffic classes.
const MaxClasses = 16

const (
	attrMode      = 1 // TCA_MQPRIO_MODE: u16
	attrShaper    = 2 // TCA_MQPRIO_SHAPER: u16
	attrMinRate64 = 3 // TCA_MQPRIO_MIN_RATE64: nest of u64
	attrMaxRate64 = 4 // TCA_MQPRIO_MAX_RATE64: nest of u64
	attrTCEntry   = 5 // TCA_MQPRIO_TC_ENTRY: nest

	attrTCEntryIndex = 1 // TCA_MQPRIO_TC_ENTRY_INDEX: u32
	attrTCEntryFP    = 2 // TCA_MQPRIO_TC_ENTRY_FP: u32
)

// qopt mirrors struct tc_mqprio_qopt field for field (82 bytes).
type qopt struct {
	NumTC  uint8
	Map    [16]uint8
	HW     uint8
	Count  [MaxClasses]uint16
	Offset [MaxClasses]uint16
}

var qoptLen = binary.Size(qopt{})

// Mode is what the NIC is asked to do with the mapping (TC_MQPRIO_MODE_*).
type Mode uint16

// Modes.
const (
	ModeDCB     Mode = 0 // the NIC's own DCB configuration
	ModeChannel Mode = 1 // the queue ranges given here
)

// Shaper is how the NIC limits each class (TC_MQPRIO_SHAPER_*).
type Shaper uint16

// Shapers.
const (
	ShaperDCB      Shaper = 0
	ShaperBWRlimit Shaper = 1 // min-rate / max-rate per class
)

// FP is a traffic class's frame-preemption state (TC_FP_*): 0 is the kernel's default, express.
type FP uint32

// Frame-preemption states.
const (
	FPExpress     FP = 1
	FPPreemptible FP = 2
)

// Queue is a traffic class's TX queues: Count queues from Offset.
type Queue struct{ Count, Offset uint16 }

// Options is an mqprio qdisc's configuration.
type Options struct {
	NumTC  uint8
	Map    [16]uint8 // socket priority -> traffic class
	Queues []Queue   // per traffic class
	// HW asks the NIC to apply the mapping (tc's hw 1); the attributes below need it.
	HW bool
	// Mode and Shaper are sent when not nil (tc's mode and shaper keywords).
	Mode   *Mode
	Shaper *Shaper
	// MinRate and MaxRate are per traffic class, in bytes per second (tc's min_rate and
	// max_rate, which tc reads in bit/s and sends divided by 8); sent when not empty.
	MinRate, MaxRate []uint64
	// FP is each traffic class's frame-preemption state, sent when not empty (tc's fp E/P);
	// a dump lists the kernel's 16 entries.
	FP []FP
}

// MarshalBinary encodes the options as the kernel takes them in RTM_NEWQDISC.
func (o *Options) MarshalBinary() ([]byte, error) {
	if len(o.Queues) > MaxClasses {
		return nil, fmt.Errorf("mqprio: %d queue ranges, at most %d", len(o.Queues), MaxClasses)
	}
	q := qopt{NumTC: o.NumTC, Map: o.Map}
	if o.HW {
		q.HW = 1
	}
	for i, r := range o.Queues {
		q.Count[i], q.Offset[i] = r.Count, r.Offset
	}
	b, err := binary.Append(nil, binary.NativeEndian, q)
	if err != nil {
		return nil, fmt.Errorf("mqprio: %w", err)
	}
	ae := netlink.NewAttributeEncoder()
	if o.Mode != nil {
		ae.Uint16(attrMode, uint16(*o.Mode))
	}
	if o.Shaper != nil {
		ae.Uint16(attrShaper, uint16(*o.Shaper))
	}
	// In iproute2's order: the TC entries, then the rates, each nest with one entry per possible
	// class (the kernel reads num_tc of them).
	for i, fp := range o.FP {
		ae.Nested(attrTCEntry, func(nae *netlink.AttributeEncoder) error {
			nae.Uint32(attrTCEntryIndex, uint32(i))
			nae.Uint32(attrTCEntryFP, uint32(fp))
			return nil
		})
	}
	for _, r := range []struct {
		typ   uint16
		rates []uint64
	}{{attrMinRate64, o.MinRate}, {attrMaxRate64, o.MaxRate}} {
		if len(r.rates) == 0 {
			continue
		}
		if len(r.rates) > MaxClasses {
			return nil, fmt.Errorf("mqprio: %d rates, at most %d", len(r.rates), MaxClasses)
		}
		ae.Nested(r.typ, func(nae *netlink.AttributeEncoder) error {
			for i := range MaxClasses {
				var v uint64
				if i < len(r.rates) {
					v = r.rates[i]
				}
				nae.Uint64(r.typ, v)
			}
			return nil
		})
	}
	attrs, err := ae.Encode()
	if err != nil {
		return nil, fmt.Errorf("mqprio: %w", err)
	}
	// The struct padded to 4 bytes, as iproute2 sends it, then the attributes.
	return append(append(b, make([]byte, align4(len(b))-len(b))...), attrs...), nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// UnmarshalBinary decodes the options of an mqprio qdisc as the kernel dumps them.
func (o *Options) UnmarshalBinary(b []byte) error {
	*o = Options{}
	if len(b) < qoptLen {
		return fmt.Errorf("mqprio: options are %d bytes, want at least %d", len(b), qoptLen)
	}
	var q qopt
	if _, err := binary.Decode(b, binary.NativeEndian, &q); err != nil {
		return fmt.Errorf("mqprio: %w", err)
	}
	if q.NumTC > MaxClasses {
		return fmt.Errorf("mqprio: %d traffic classes, at most %d", q.NumTC, MaxClasses)
	}
	o.NumTC, o.Map, o.HW = q.NumTC, q.Map, q.HW != 0
	for i := range int(q.NumTC) {
		o.Queues = append(o.Queues, Queue{Count: q.Count[i], Offset: q.Offset[i]})
	}
	if len(b) <= align4(qoptLen) {
		return nil
	}
	ad, err := netlink.NewAttributeDecoder(b[align4(qoptLen):])
	if err != nil {
		return fmt.Errorf("mqprio: %w", err)
	}
	fp := map[uint32]FP{}
	for ad.Next() {
		switch ad.Type() {
		case attrMode:
			m := Mode(ad.Uint16())
			o.Mode = &m
		case attrShaper:
			s := Shaper(ad.Uint16())
			o.Shaper = &s
		case attrMinRate64, attrMaxRate64:
			typ := ad.Type()
			var rates []uint64
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					rates = append(rates, nad.Uint64())
				}
				return nil
			})
			rates = rates[:min(len(rates), int(q.NumTC))] // the kernel reads num_tc of them
			if typ == attrMinRate64 {
				o.MinRate = rates
			} else {
				o.MaxRate = rates
			}
		case attrTCEntry:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				var idx uint32
				var state FP
				have := false
				for nad.Next() {
					switch nad.Type() {
					case attrTCEntryIndex:
						idx, have = nad.Uint32(), true
					case attrTCEntryFP:
						state = FP(nad.Uint32())
					}
				}
				if !have {
					return errors.New("a TC entry without its index")
				}
				fp[idx] = state
				return nil
			})
		}
	}
	if err := ad.Err(); err != nil {
		return fmt.Errorf("mqprio: %w", err)
	}
	for i := range uint32(len(fp)) {
		if _, ok := fp[i]; !ok {
			return fmt.Errorf("mqprio: TC entries are not 0-%d", len(fp)-1)
		}
		o.FP = append(o.FP, fp[i])
	}
	return nil
}

// String is tc's word for the mode.
func (m Mode) String() string {
	switch m {
	case ModeDCB:
		return "dcb"
	case ModeChannel:
		return "channel"
	}
	return fmt.Sprintf("mode-%d", uint16(m))
}

// UnmarshalText reads dcb or channel, as tc does.
func (m *Mode) UnmarshalText(b []byte) error {
	switch string(b) {
	case "dcb":
		*m = ModeDCB
	case "channel":
		*m = ModeChannel
	default:
		return fmt.Errorf("unknown mode %q: use dcb or channel", b)
	}
	return nil
}

// MarshalText writes tc's word.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// String is tc's word for the shaper.
func (s Shaper) String() string {
	switch s {
	case ShaperDCB:
		return "dcb"
	case ShaperBWRlimit:
		return "bw_rlimit"
	}
	return fmt.Sprintf("shaper-%d", uint16(s))
}

// UnmarshalText reads dcb or bw_rlimit, as tc does.
func (s *Shaper) UnmarshalText(b []byte) error {
	switch string(b) {
	case "dcb":
		*s = ShaperDCB
	case "bw_rlimit":
		*s = ShaperBWRlimit
	default:
		return fmt.Errorf("unknown shaper %q: use dcb or bw_rlimit", b)
	}
	return nil
}

// MarshalText writes tc's word.
func (s Shaper) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
