package plan

import (
	"slices"

	"github.com/tsnctl/tsnctl/configs"
)

// StreamIDs gives each of the configuration's streams the id its packets carry (tsnctl send
// --stream NAME writes it in every packet; tsnctl analyze -f FILE finds the stream by it): 1 for
// the first name in byte order, 2 for the next, and so on, whatever the order of the file. Ad-hoc
// sends (tsnctl send --dest ...) default to id 0, which no planned stream has.
func StreamIDs(c *configs.Config) map[string]uint32 {
	names := make([]string, len(c.Streams))
	for i, s := range c.Streams {
		names[i] = s.Name
	}
	slices.Sort(names)
	ids := make(map[string]uint32, len(names))
	for i, n := range names {
		ids[n] = uint32(i + 1)
	}
	return ids
}

// Stream is one planned stream: the file's stream, the plan's row for it and its id (StreamIDs).
type Stream struct {
	configs.Stream
	Row Row
	ID  uint32
	// Iface is the interface the plan sends it through: the VLAN interface for UDP (the VLAN's
	// name:, or PARENT.ID), the port itself for raw 802.1Q (the frame carries the tag).
	Iface string
}

// LoadStreams reads a configuration file as Load does and returns its planned streams, in the
// order of the file.
func LoadStreams(path string) ([]Stream, error) {
	c, err := configs.Load(path)
	if err != nil {
		return nil, err
	}
	return Streams(c)
}

// Streams plans c (Expand) and returns its streams, in the order of the file.
func Streams(c *configs.Config) ([]Stream, error) {
	out, res, err := Expand(c)
	if err != nil {
		return nil, err
	}
	return StreamsOf(c, out, res), nil
}

// StreamsOf are c's streams as Expand planned them (out, res: its results), in the order of the
// file.
func StreamsOf(c, out *configs.Config, res *Result) []Stream {
	ids := StreamIDs(c)
	var ss []Stream
	for _, s := range c.Streams {
		i := slices.IndexFunc(res.Rows, func(r Row) bool { return r.Stream == s.Name })
		st := Stream{Stream: s, Row: res.Rows[i], ID: ids[s.Name], Iface: string(s.Interface)}
		if s.UDP() {
			st.Iface = vlanName(out, s)
		}
		ss = append(ss, st)
	}
	return ss
}

// vlanName is the name of the VLAN interface the plan wrote for s.
func vlanName(c *configs.Config, s configs.Stream) string {
	for _, ifc := range c.Interfaces {
		if ifc.Name != s.Interface {
			continue
		}
		for _, v := range ifc.VLANs {
			if v.ID == s.VLAN {
				return v.LinkName(ifc.Name)
			}
		}
	}
	return configs.DefaultVLANName(s.Interface, s.VLAN)
}
