// Package tree decodes the TSN qdisc tree of an interface from a qdisc dump: the taprio at the
// root (or an mqprio) and the ETF and cbs qdiscs on its TX queues (tc's "parent 100:2" is queue 1).
package tree

import (
	"fmt"

	"github.com/tsnctl/tsnctl/cbs"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/mqprio"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/taprio"
)

// Tree is an interface's taprio or mqprio root and the ETF and cbs children on its queues.
type Tree struct {
	Taprio *taprio.Options
	Mqprio *mqprio.Options
	// RootETF is an etf at the root (of a single-queue device).
	RootETF *etf.Options
	Handle  uint16              // the root's major handle (100 in "100:")
	ETF     map[int]etf.Options // by TX queue, from 0
	CBS     map[int]cbs.Options // by TX queue, from 0
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

// Decode finds the taprio or mqprio root in qs (one interface's qdiscs) and the ETF and cbs
// children under it. A root of another kind, or none, is no error: Tree.Taprio and Tree.Mqprio
// are nil.
func Decode(qs []qdisc.Qdisc) (Tree, error) {
	root := Root(qs)
	if root == nil {
		return Tree{}, nil
	}
	t := Tree{Handle: uint16(root.Handle >> 16), ETF: map[int]etf.Options{}, CBS: map[int]cbs.Options{}}
	switch root.Kind {
	case taprio.Kind:
		t.Taprio = new(taprio.Options)
		if err := t.Taprio.UnmarshalBinary(root.Options); err != nil {
			return Tree{}, fmt.Errorf("decode the root taprio: %w", err)
		}
	case mqprio.Kind:
		t.Mqprio = new(mqprio.Options)
		if err := t.Mqprio.UnmarshalBinary(root.Options); err != nil {
			return Tree{}, fmt.Errorf("decode the root mqprio: %w", err)
		}
	case etf.Kind:
		t.RootETF = new(etf.Options)
		if err := t.RootETF.UnmarshalBinary(root.Options); err != nil {
			return Tree{}, fmt.Errorf("decode the root etf: %w", err)
		}
		return t, nil
	default:
		return Tree{}, nil
	}
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
