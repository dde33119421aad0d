package samplelog

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func write(t *testing.T, recs []Record) []byte {
	var b bytes.Buffer
	w, err := NewWriter(&b, Header{Role: "send", Stream: 3, Params: map[string]any{"cycle_ns": 2000000}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	recs := []Record{
		{Type: TypeTx, Flags: FlagTxtime, Stream: 3, Seq: 0, T: [6]int64{1, 2, 3, 4, 5, 6}},
		{Type: TypeETFDrop, Flags: FlagDropMissed, Stream: 3, Seq: 1, T: [6]int64{0, 0, 0, -9}},
		{Type: TypeRx, Flags: FlagHardware, Stream: 3, Seq: 1 << 62, T: [6]int64{1 << 62, 0, 0, 0, 5}},
	}
	b := write(t, recs)
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.Role != "send" || r.Header.Stream != 3 || r.Header.Params["cycle_ns"] != json.Number("2000000") {
		t.Errorf("header %+v", r.Header)
	}
	for i := range recs {
		var got Record
		if err := r.Next(&got); err != nil || got != recs[i] {
			t.Errorf("record %d: %+v %v", i, got, err)
		}
	}
	var x Record
	if err := r.Next(&x); err != io.EOF {
		t.Errorf("end: %v", err)
	}
}

func TestTruncatedAndCorrupt(t *testing.T) {
	b := write(t, []Record{{Type: TypeTx, Seq: 1}, {Type: TypeTx, Seq: 2}})
	r, _ := NewReader(bytes.NewReader(b[:len(b)-10]))
	var rec Record
	if err := r.Next(&rec); err != nil || rec.Seq != 1 {
		t.Fatalf("first record: %v", err)
	}
	if err := r.Next(&rec); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "record 1 (54 of 64 bytes)") {
		t.Errorf("truncated: %v", err)
	}
	for name, data := range map[string][]byte{
		"empty":   nil,
		"foreign": []byte("hello world, this is not a log"),
		"short":   []byte("TSNCTLOG"),
		"version": append(append([]byte("TSNCTLOG"), 9, 0), b[10:]...),
		"header":  append(append([]byte("TSNCTLOG"), 1, 0, 0xff, 0xff, 0xff, 0x7f), b[14:]...),
		"json":    append(append([]byte("TSNCTLOG"), 1, 0, 3, 0, 0, 0), []byte("{{{")...),
	} {
		if _, err := NewReader(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestWriteDoesNotAllocate(t *testing.T) {
	w, _ := NewWriter(io.Discard, Header{})
	rec := Record{Type: TypeTx, Seq: 1}
	if a := testing.AllocsPerRun(1000, func() { rec.Seq++; _ = w.Write(&rec) }); a != 0 {
		t.Errorf("%v allocations per record", a)
	}
}

func TestFlushesEverySecond(t *testing.T) {
	var b bytes.Buffer
	w, _ := NewWriter(&b, Header{})
	clock := int64(0)
	w.now = func() int64 { return clock }
	w.lastFlush = 0
	n0 := b.Len()
	_ = w.Write(&Record{})
	if b.Len() != n0 {
		t.Error("flushed before a second passed")
	}
	clock = 1e9
	_ = w.Write(&Record{})
	if b.Len() != n0+2*RecordLen {
		t.Errorf("not flushed after a second: %d bytes", b.Len()-n0)
	}
}

func FuzzReader(f *testing.F) {
	var b bytes.Buffer
	w, _ := NewWriter(&b, Header{Role: "recv"})
	_ = w.Write(&Record{Type: TypeRx, Seq: 5})
	_ = w.Flush()
	f.Add(b.Bytes())
	f.Add([]byte("TSNCTLOG\x01\x00\x02\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		var rec Record
		for i := 0; i < 1000; i++ {
			if err := r.Next(&rec); err != nil {
				return
			}
		}
	})
}

// A TAI base-time in ns has 19 digits: the header keeps every one (a float64 would not).
func TestHeaderKeepsLargeNumbers(t *testing.T) {
	var b bytes.Buffer
	w, _ := NewWriter(&b, Header{Role: "send", Params: map[string]any{"base_time_ns": int64(1795383017690000000)}})
	w.Flush()
	r, err := NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Params["base_time_ns"]; got != json.Number("1795383017690000000") {
		t.Errorf("base_time_ns %v (%T)", got, got)
	}
}
