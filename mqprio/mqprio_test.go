package mqprio

import (
	"reflect"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	mode, shaper := ModeChannel, ShaperBWRlimit
	for _, o := range []Options{
		{NumTC: 1, Queues: []Queue{{Count: 4, Offset: 0}}},
		{NumTC: 2, Map: [16]uint8{1, 1, 0}, Queues: []Queue{{1, 0}, {3, 1}}, HW: true, Mode: &mode, Shaper: &shaper,
			MinRate: []uint64{1, 2}, MaxRate: []uint64{3, 4}, FP: []FP{FPExpress, FPPreemptible}},
	} {
		b, err := o.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Options
		if err := got.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(got, o) {
			t.Errorf("%+v -> %+v, %v", o, got, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	var o Options
	if err := o.UnmarshalBinary(make([]byte, 40)); err == nil {
		t.Error("a short struct decoded")
	}
	b := make([]byte, 84)
	b[0] = 17
	if err := o.UnmarshalBinary(b); err == nil {
		t.Error("17 traffic classes decoded")
	}
	if _, err := (&Options{Queues: make([]Queue, 17)}).MarshalBinary(); err == nil {
		t.Error("17 queue ranges encoded")
	}
}
