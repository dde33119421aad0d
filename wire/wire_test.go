package wire

import (
	"errors"
	"testing"
)

func TestRoundTripAndLayout(t *testing.T) {
	h := Header{Flags: FlagTxtime, Stream: 7, Seq: 1 << 40, CycleStart: 1795372810045000000, Wakeup: -1, SendCall: 3, Txtime: 1795372810046250000}
	b := make([]byte, 64)
	Put(b, &h)
	if string(b[:4]) != "TSN1" || b[4] != 1 || b[8] != 7 || b[12+5] != 1 {
		t.Errorf("layout: % x", b[:20])
	}
	var g Header
	if err := Parse(b, &g); err != nil || g != h {
		t.Errorf("%+v %v", g, err)
	}
	if allocs := testing.AllocsPerRun(100, func() { Put(b, &h); _ = Parse(b, &g) }); allocs != 0 {
		t.Errorf("%v allocations", allocs)
	}
}

func TestRejects(t *testing.T) {
	var h Header
	if err := Parse([]byte("short"), &h); !errors.Is(err, ErrNotOurs) {
		t.Error(err)
	}
	b := make([]byte, Len)
	Put(b, &Header{})
	b[4] = 9
	if err := Parse(b, &h); err == nil || errors.Is(err, ErrNotOurs) {
		t.Errorf("version 9: %v", err)
	}
}
