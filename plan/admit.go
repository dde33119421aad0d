package plan

import (
	"fmt"
	"slices"

	"github.com/tsnctl/tsnctl/configs"
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
