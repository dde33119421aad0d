package plan

import (
	"fmt"
	"slices"
	"time"

	"github.com/tsnctl/tsnctl/admission"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/ifname"
)

// WithAdmitted returns src (a configuration as written) with the streams admitted at run time added
// to its own, each checked first: its fields as the loader checks a file's stream (configs'
// Stream.Check), a name no other stream has, and its interface's reservation (plan: admission:):
// the interface admits streams, the stream is time-scheduled, its VLAN and PCP are reserved (a
// stream without a PCP gets the first reserved one) and the interface's admitted streams stay
// within max-streams. A refusal names the stream and the constraint, "admission" for the
// reservation. ExpandPinned then decides whether the streams fit.
func WithAdmitted(src *configs.Config, admitted []configs.Stream) (*configs.Config, error) {
	out := *src
	out.Streams = slices.Clone(src.Streams)
	count := map[string]int{}
	for _, s := range admitted {
		if err := s.Check("stream"); err != nil {
			return nil, err
		}
		refuse := func(constraint, format string, args ...any) error {
			return &Error{Interface: string(s.Interface), Stream: s.Name, Constraint: constraint, Msg: fmt.Sprintf(format, args...)}
		}
		if slices.ContainsFunc(out.Streams, func(o configs.Stream) bool { return o.Name == s.Name }) {
			return nil, refuse("name", "a stream of this name is already planned: choose another name")
		}
		a, ok := configs.Admits(src, s.Interface)
		switch {
		case !ok:
			return nil, refuse("admission", "the interface admits no streams: its plan: has no admission: section (or it is not in the configuration)")
		case s.Class != configs.NoClass:
			return nil, refuse("admission", "admission takes time-scheduled streams: remove the class")
		case !slices.Contains(a.VLANs, s.VLAN):
			return nil, refuse("admission", "VLAN %d is not reserved for admitted streams (plan.admission.vlans: %v): use one of those", s.VLAN, a.VLANs)
		}
		if s.PCP == nil {
			p := a.PCPs()[0]
			s.PCP = &p
		}
		if !slices.Contains(a.PCPs(), *s.PCP) {
			return nil, refuse("admission", "PCP %d is not reserved for admitted streams (plan.admission.pcp: %v): use one of those, or give none", *s.PCP, a.PCPs())
		}
		if count[string(s.Interface)]++; count[string(s.Interface)] > a.Limit() {
			return nil, refuse("admission", "the interface has %d admitted streams already, its max-streams: remove one first", a.Limit())
		}
		out.Streams = append(out.Streams, s)
	}
	return &out, nil
}

// FromWire is a stream an application asks the admission socket for, as a configuration's stream.
func FromWire(s admission.Stream) configs.Stream {
	return configs.Stream{Name: s.Name, Interface: ifname.Name(s.Interface), Dest: s.Dest, VLAN: s.VLAN, PCP: s.PCP,
		Period: configs.Duration(s.Period), Frames: s.Frames, Size: s.Size, Offset: configs.Duration(s.Offset), MaxLatency: configs.Duration(s.MaxLatency)}
}

// ToWire is a configuration's stream as the admission socket writes it.
func ToWire(s configs.Stream) admission.Stream {
	return admission.Stream{Name: s.Name, Interface: string(s.Interface), Dest: s.Dest, VLAN: s.VLAN, PCP: s.PCP,
		Period: admission.Duration(s.Period), Frames: s.Frames, Size: s.Size, Offset: admission.Duration(s.Offset), MaxLatency: admission.Duration(s.MaxLatency)}
}

// Admitted is an admitted stream as the planned streams tsnctl send takes (StreamsOf), with id as
// its stream id: its row as the agent planned it, sent on its VLAN link (UDP) or its interface (raw).
func Admitted(a admission.Admitted, id uint32) Stream {
	s := FromWire(a.Stream)
	pcp := int(s.PCPOrDefault())
	row := Row{Stream: s.Name, Interface: string(s.Interface), Priority: a.Priority, PCP: pcp, Queue: streamClass,
		Period: time.Duration(s.Period), Txtime: time.Duration(a.Txtime), Open: time.Duration(a.WindowOpen), Close: time.Duration(a.WindowClose),
		Wire: time.Duration(a.WindowClose - a.Txtime)}
	st := Stream{Stream: s, Row: row, ID: id, Iface: string(s.Interface)}
	if s.UDP() {
		st.Iface = a.VLANInterface
	}
	return st
}
