// Package tree decodes the TSN qdisc tree of an interface from a qdisc dump: the taprio at the
// root and the ETF and cbs qdiscs on its TX queues (tc's "parent 100:2" is queue 1).
package tree

import (
	"fmt"

	"github.com/tsnctl/tsnctl/cbs"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/taprio"
)

// Tree is an interface's taprio root and the ETF and cbs children on its queues.
type Tree struct {
	Taprio *taprio.Options
	Handle uint16              // the taprio's major handle (100 in "100:")
	ETF    map[int]etf.Options // by TX queue, from 0
	CBS    map[int]cbs.Options // by TX queue, from 0
}

// Root returns the root qdisc of a dump of one interface, nil if there is none.
func Root(qs []qdisc.Qdisc) *qdisc.Qdisc {
	for i := range qs {
		if qs[i].Parent == qdisc.HandleRoot {
			return &qs[i]
		}
	}
	return nil
}

// Decode finds the taprio root in qs (one interface's qdiscs) and the ETF children under it. A
// root of another kind, or none, is no error: Tree.Taprio is nil.
func Decode(qs []qdisc.Qdisc) (Tree, error) {
	root := Root(qs)
	if root == nil || root.Kind != taprio.Kind {
		return Tree{}, nil
	}
	var o taprio.Options
	if err := o.UnmarshalBinary(root.Options); err != nil {
		return Tree{}, fmt.Errorf("decode the root taprio: %w", err)
	}
	t := Tree{Taprio: &o, Handle: uint16(root.Handle >> 16), ETF: map[int]etf.Options{}, CBS: map[int]cbs.Options{}}
	for _, q := range qs {
		if q.Parent>>16 != root.Handle>>16 || q.Parent&0xFFFF == 0 {
			continue
		}
		queue := int(q.Parent&0xFFFF) - 1
		switch q.Kind {
		case etf.Kind:
			var e etf.Options
			if err := e.UnmarshalBinary(q.Options); err != nil {
				return Tree{}, fmt.Errorf("decode the ETF at %s: %w", qdisc.FormatHandle(q.Parent), err)
			}
			t.ETF[queue] = e
		case cbs.Kind:
			var c cbs.Options
			if err := c.UnmarshalBinary(q.Options); err != nil {
				return Tree{}, fmt.Errorf("decode the cbs at %s: %w", qdisc.FormatHandle(q.Parent), err)
			}
			t.CBS[queue] = c
		}
	}
	return t, nil
}
