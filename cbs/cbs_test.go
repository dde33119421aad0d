package cbs

import "testing"

func TestRoundTrip(t *testing.T) {
	for _, o := range []Options{
		{IdleSlope: 20000, SendSlope: -980000, HiCredit: 30, LoCredit: -1470},
		{IdleSlope: 98688, SendSlope: -901312, HiCredit: 153, LoCredit: -1390, Offload: true},
	} {
		b, err := o.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Options
		if err := got.UnmarshalBinary(b); err != nil || got != o {
			t.Errorf("%+v -> %+v, %v", o, got, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	var o Options
	if err := o.UnmarshalBinary(nil); err == nil {
		t.Error("empty options decoded")
	}
	if err := o.UnmarshalBinary([]byte{8, 0, 1, 0, 1, 2, 3, 4}); err == nil {
		t.Error("short parameters decoded")
	}
}
