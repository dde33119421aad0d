package tree

import (
	"reflect"
	"testing"

	"github.com/tsnctl/tsnctl/cbs"
	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/taprio"
)

func TestDecode(t *testing.T) {
	tai := clock.TAI
	tp := taprio.Options{NumTC: 2, Queues: []taprio.Queue{{Count: 1, Offset: 0}, {Count: 1, Offset: 1}}, ClockID: &tai,
		Schedule: taprio.Schedule{BaseTime: 1e9, Entries: []taprio.Entry{{Gates: 1, Interval: 500000}, {Gates: 2, Interval: 500000}}}}
	tb, _ := tp.MarshalBinary()
	e := etf.Options{Delta: 200000, ClockID: clock.TAI}
	eb, _ := e.MarshalBinary()
	root := qdisc.Qdisc{Handle: qdisc.Handle(0x100, 0), Parent: qdisc.HandleRoot, Kind: taprio.Kind, Options: tb}
	for _, tc := range []struct {
		name   string
		qs     []qdisc.Qdisc
		queues []int // ETF expected on these queues
		none   bool
	}{
		{"taprio with an ETF on queue 1", []qdisc.Qdisc{root, {Parent: qdisc.Handle(0x100, 1), Kind: "pfifo"},
			{Handle: qdisc.Handle(0xe001, 0), Parent: qdisc.Handle(0x100, 2), Kind: etf.Kind, Options: eb}}, []int{1}, false},
		{"an ETF under another parent is not the taprio's", []qdisc.Qdisc{root,
			{Handle: qdisc.Handle(0xe001, 0), Parent: qdisc.Handle(0x200, 2), Kind: etf.Kind, Options: eb}}, nil, false},
		{"mq at the root", []qdisc.Qdisc{{Parent: qdisc.HandleRoot, Kind: "mq"}}, nil, true},
		{"nothing", nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.qs)
			if err != nil {
				t.Fatal(err)
			}
			if tc.none {
				if got.Taprio != nil {
					t.Errorf("a taprio: %+v", got)
				}
				return
			}
			want := tp
			want.Oper = &want.Schedule
			if got.Handle != 0x100 || !reflect.DeepEqual(*got.Taprio, want) || len(got.ETF) != len(tc.queues) {
				t.Errorf("%+v", got)
			}
			for _, q := range tc.queues {
				if got.ETF[q] != e {
					t.Errorf("queue %d: %+v", q, got.ETF[q])
				}
			}
		})
	}
	// A cbs on queue 2 beside the ETF on queue 1; the pfifo the cbs made for itself is no child of the taprio.
	c := cbs.Options{IdleSlope: 20000, SendSlope: -980000, HiCredit: 31, LoCredit: -1512}
	cb, _ := c.MarshalBinary()
	got, err := Decode([]qdisc.Qdisc{root, {Handle: qdisc.Handle(0xe001, 0), Parent: qdisc.Handle(0x100, 2), Kind: etf.Kind, Options: eb},
		{Handle: qdisc.Handle(0xc002, 0), Parent: qdisc.Handle(0x100, 3), Kind: cbs.Kind, Options: cb},
		{Parent: qdisc.Handle(0xc002, 1), Kind: "pfifo"}})
	if err != nil || len(got.CBS) != 1 || got.CBS[2] != c || got.ETF[1] != e {
		t.Errorf("with a cbs: %+v, %v", got, err)
	}
	if _, err := Decode([]qdisc.Qdisc{root, {Handle: qdisc.Handle(0xc002, 0), Parent: qdisc.Handle(0x100, 3), Kind: cbs.Kind, Options: []byte{4, 0, 2, 0}}}); err == nil {
		t.Error("a cbs without parameters decoded")
	}
	if _, err := Decode([]qdisc.Qdisc{{Parent: qdisc.HandleRoot, Kind: taprio.Kind, Options: []byte{1, 2, 3}}}); err == nil {
		t.Error("a corrupt taprio decoded")
	}
}
