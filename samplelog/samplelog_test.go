package samplelog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, recs []Record) []byte {
	var b bytes.Buffer
	w, err := NewWriter(&b, Header{Role: RoleSend, Stream: 3, Send: &SendParams{Cycle: 2000000}})
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
		{Type: TypeTx, Flags: FlagTxtime, Stream: 3, Seq: 0, CycleStart: 1, Wakeup: 2, SendCall: 3, Txtime: 4, PlannedWakeup: 5},
		{Type: TypeETFDrop, Flags: FlagDropMissed, Stream: 3, Seq: 1, Txtime: -9},
		{Type: TypeTxTimestamp, Flags: FlagHardware, Stream: 3, Seq: 1, Timestamp: 7},
		{Type: TypeRx, Flags: FlagHardware | FlagVLAN, Stream: 3, Seq: 1 << 62, CycleStart: 1 << 62, Wakeup: 8, SendCall: 9, Txtime: 10, Timestamp: 5, TCI: 6<<13 | 3},
	}
	b := write(t, recs)
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.Role != RoleSend || r.Header.Stream != 3 || r.Header.Send == nil || r.Header.Send.Cycle != 2000000 || r.Header.Recv != nil {
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
	w, _ := NewWriter(&b, Header{Role: RoleRecv})
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
	w, _ := NewWriter(&b, Header{Role: RoleSend, Send: &SendParams{BaseTime: 1795383017690000000}})
	w.Flush()
	r, err := NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Send.BaseTime; got != 1795383017690000000 {
		t.Errorf("base_time_ns %v", got)
	}
}

// A log written before the header was typed (tsnctl 2026-11, params a free-form map, the times
// six numbered slots) reads into the typed header and the named times; the bytes below are
// such a log's, a sender's header and one record of each type.
func TestReadsOlderLogs(t *testing.T) {
	header := `{"role":"send","stream":9,"started_at":"2026-01-01T00:00:43Z","host":"lab1","kernel":"6.12.95+deb12-amd64",` +
		`"params":{"base_time_ns":1767225642148000000,"cpu":1,"cycle_ns":2000000,"deadline_mode":false,"dest":"10.3.0.2:7788",` +
		`"fifo":0,"from_qdisc":"v0","iface":"v0.3","mode":"txtime","offset_ns":50000,"pause_unlocked":false,"per_cycle":1,` +
		`"priority":6,"require_sync":false,"size":64,"wake_advance_ns":1200000,"window_end_ns":1300000,"window_start_ns":1200000,"extra":[1]},` +
		`"labels":{"time base":"virtual"}}`
	var b bytes.Buffer
	b.WriteString("TSNCTLOG\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	b.WriteString(header)
	slot := func(typ, flags uint8, seq uint64, t ...int64) {
		var rec [RecordLen]byte
		rec[0], rec[1] = typ, flags
		binary.LittleEndian.PutUint32(rec[4:], 9)
		binary.LittleEndian.PutUint64(rec[8:], seq)
		for i, v := range t {
			binary.LittleEndian.PutUint64(rec[16+8*i:], uint64(v))
		}
		b.Write(rec[:])
	}
	slot(1, FlagTxtime, 4, 100, 200, 300, 400, 150)
	slot(2, FlagHardware, 4, 1400)
	slot(3, FlagDropMissed, 5, 0, 0, 0, 2400)
	slot(4, FlagTxtime|FlagVLAN, 4, 100, 200, 300, 400, 1500, 6<<13|3)
	r, err := NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	want := SendParams{Mode: "txtime", Cycle: 2000000, BaseTime: 1767225642148000000, PerCycle: 1, Dest: "10.3.0.2:7788", Iface: "v0.3",
		Priority: 6, Size: 64, FromQdisc: "v0", CPU: 1, WindowStart: 1200000, WindowEnd: 1300000, Offset: 50000, WakeAdvance: 1200000}
	if h := r.Header; h.Role != RoleSend || h.Stream != 9 || h.Host != "lab1" || h.Labels["time base"] != "virtual" || h.Send == nil || *h.Send != want {
		t.Errorf("header %+v, params %+v", h, h.Send)
	}
	wantRecs := []Record{
		{Type: TypeTx, Flags: FlagTxtime, Stream: 9, Seq: 4, CycleStart: 100, Wakeup: 200, SendCall: 300, Txtime: 400, PlannedWakeup: 150},
		{Type: TypeTxTimestamp, Flags: FlagHardware, Stream: 9, Seq: 4, Timestamp: 1400},
		{Type: TypeETFDrop, Flags: FlagDropMissed, Stream: 9, Seq: 5, Txtime: 2400},
		{Type: TypeRx, Flags: FlagTxtime | FlagVLAN, Stream: 9, Seq: 4, CycleStart: 100, Wakeup: 200, SendCall: 300, Txtime: 400, Timestamp: 1500, TCI: 6<<13 | 3},
	}
	for i, want := range wantRecs {
		var got Record
		if err := r.Next(&got); err != nil || got != want {
			t.Errorf("record %d: %+v %v, want %+v", i, got, err, want)
		}
	}
	if got := wantRecs[3]; got.VID() != 3 || got.PCP() != 6 {
		t.Errorf("VID %d PCP %d", got.VID(), got.PCP())
	}
}

// The header on disk keeps the keys older readers (and report.json's consumers) know: a
// receiver's parameters under "params", no Go field names.
func TestHeaderJSON(t *testing.T) {
	b, err := json.Marshal(Header{Role: RoleRecv, Recv: &RecvParams{Listen: ":7788", Iface: "v1.3", HWTimestamps: true}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"role":"recv","stream":0,"started_at":"0001-01-01T00:00:00Z","params":{"listen":":7788","iface":"v1.3","hw_timestamps":true}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var h Header
	if err := json.Unmarshal([]byte(`{"role":"tap","params":{"x":1}}`), &h); err != nil || h.Role != "tap" || h.Send != nil || h.Recv != nil {
		t.Errorf("an unknown role: %+v %v", h, err)
	}
}

func TestNewHeader(t *testing.T) {
	h := NewHeader(RoleSend, 4, map[string]string{"a": "b"})
	host, _ := os.Hostname()
	if h.Role != RoleSend || h.Stream != 4 || h.Host != host || h.Kernel == "" || time.Since(h.StartedAt) > time.Minute || h.Labels["a"] != "b" {
		t.Errorf("%+v", h)
	}
}
