package etf

import (
	"bytes"
	"testing"

	"github.com/tsnctl/tsnctl/clock"
)

func TestEncodingMatchesStructTcEtfQopt(t *testing.T) {
	o := Options{Delta: 5000000, ClockID: clock.TAI, DeadlineMode: true, SkipSockCheck: true}
	b, err := o.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// nlattr{len 16, type 1} + delta 5000000 (0x004c4b40) + clockid 11 + flags 0b101, little-endian.
	want := []byte{16, 0, 1, 0, 0x40, 0x4b, 0x4c, 0x00, 11, 0, 0, 0, 5, 0, 0, 0}
	if !bytes.Equal(b, want) {
		t.Errorf("got  % x\nwant % x", b, want)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, o := range []Options{
		{Delta: 500000, ClockID: clock.TAI},
		{Delta: 1, ClockID: clock.Realtime, Offload: true},
		{Delta: 200000, ClockID: clock.TAI, DeadlineMode: true, Offload: true, SkipSockCheck: true},
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
