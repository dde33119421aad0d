package samplelog

import (
	"os"
	"strings"
	"testing"
)

// tsnctl dump's lines for a record of each type: testdata/dump.golden is what tsnctl printed
// before the record's times were named (six numbered slots), and must stay so.
func TestDumpLines(t *testing.T) {
	var b strings.Builder
	for _, r := range []Record{
		{Type: TypeTx, Flags: FlagTxtime, Stream: 9, Seq: 4, CycleStart: 100, Wakeup: 200, SendCall: 300, Txtime: 400, PlannedWakeup: 150},
		{Type: TypeTx, Stream: 9, Seq: 5, CycleStart: 2100, Wakeup: 2200, SendCall: 2300, PlannedWakeup: 2050},
		{Type: TypeTxTimestamp, Flags: FlagHardware, Stream: 9, Seq: 4, Timestamp: 1400},
		{Type: TypeETFDrop, Flags: FlagDropMissed, Stream: 9, Seq: 5, Txtime: 2400},
		{Type: TypeRx, Flags: FlagTxtime | FlagVLAN, Stream: 9, Seq: 4, CycleStart: 100, Wakeup: 200, SendCall: 300, Txtime: 400, Timestamp: 1500, TCI: 6<<13 | 3},
		{Type: TypeRx, Stream: 9, Seq: 5, CycleStart: 2100, Wakeup: 2200, SendCall: 2300, Timestamp: 3500},
	} {
		if err := r.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/dump.golden")
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
