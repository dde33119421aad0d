package samplelog_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tsnctl/tsnctl/samplelog"
)

const (
	base  = int64(1795000000000000000) // TAI ns of the first cycle
	cycle = int64(2 * time.Millisecond)
)

// senderLog is a small log as tsnctl send writes it: for each of 5 cycles, the send (tx) and its
// TX timestamp, with the packet of cycle 3 dropped by ETF instead (its txtime had passed).
func senderLog() *bytes.Buffer {
	var buf bytes.Buffer
	h := samplelog.Header{Role: samplelog.RoleSend, Stream: 1,
		Send: &samplelog.SendParams{Mode: "txtime", Cycle: cycle, BaseTime: base, PerCycle: 1, WindowStart: 1200000, WindowEnd: 1300000, Offset: 50000}}
	w, err := samplelog.NewWriter(&buf, h)
	if err != nil {
		panic(err)
	}
	for seq := range int64(5) {
		c := base + seq*cycle
		txtime := c + 1250000
		w.Write(&samplelog.Record{Type: samplelog.TypeTx, Flags: samplelog.FlagTxtime, Stream: 1, Seq: uint64(seq),
			CycleStart: c, PlannedWakeup: txtime - 500000, Wakeup: txtime - 500000 + 20000 + seq*1000, SendCall: txtime - 470000, Txtime: txtime})
		if seq == 3 {
			w.Write(&samplelog.Record{Type: samplelog.TypeETFDrop, Flags: samplelog.FlagDropMissed, Stream: 1, Seq: uint64(seq), Txtime: txtime})
			continue
		}
		w.Write(&samplelog.Record{Type: samplelog.TypeTxTimestamp, Flags: samplelog.FlagHardware, Stream: 1, Seq: uint64(seq), Timestamp: txtime + 100 + seq*10})
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	return &buf
}

// Reading a sender's log (samplelog.Open(path) for a file): the header, then the records, counted
// by type, and the wake-up latency of each send.
func ExampleReader() {
	r, err := samplelog.NewReader(senderLog())
	if err != nil {
		fmt.Println(err)
		return
	}
	p := r.Header.Send
	fmt.Printf("%s log of stream %d: %s mode, cycle %v, window %v-%v\n", r.Header.Role, r.Header.Stream, p.Mode,
		time.Duration(p.Cycle), time.Duration(p.WindowStart), time.Duration(p.WindowEnd))

	counts := map[samplelog.Type]int{}
	var wake []time.Duration
	var rec samplelog.Record
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		counts[rec.Type]++
		if rec.Type == samplelog.TypeTx {
			wake = append(wake, time.Duration(rec.Wakeup-rec.PlannedWakeup))
		}
	}
	fmt.Println(r.Records(), "records:", counts[samplelog.TypeTx], "tx,", counts[samplelog.TypeTxTimestamp], "tx-timestamp,",
		counts[samplelog.TypeETFDrop], "etf-drop")
	fmt.Println("wake-up latencies:", wake)
	// Output:
	// send log of stream 1: txtime mode, cycle 2ms, window 1.2ms-1.3ms
	// 10 records: 5 tx, 4 tx-timestamp, 1 etf-drop
	// wake-up latencies: [20µs 21µs 22µs 23µs 24µs]
}

// One record per line, as tsnctl dump prints them: times in TAI ns, and from the cycle start.
func ExampleRecord_WriteText() {
	r, err := samplelog.NewReader(senderLog())
	if err != nil {
		fmt.Println(err)
		return
	}
	var rec samplelog.Record
	for range 2 {
		if err := r.Next(&rec); err != nil {
			fmt.Println(err)
			return
		}
		rec.WriteText(os.Stdout)
	}
	// Output:
	// tx           stream=1 seq=0 flags=txtime cycle_start=1795000000000000000 wakeup=1795000000000770000(+770.000us) send_call=1795000000000780000(+780.000us) txtime=1795000000001250000(+1250.000us) planned_wakeup=1795000000000750000(+750.000us)
	// tx-timestamp stream=1 seq=0 flags=hardware tx_timestamp=1795000000001250100
}

// A log whose writer was killed mid-record: the records before the cut are good, and the reader
// says what happened.
func ExampleReader_Next_truncated() {
	b := senderLog().Bytes()
	r, err := samplelog.NewReader(bytes.NewReader(b[:len(b)-samplelog.RecordLen/2]))
	if err != nil {
		fmt.Println(err)
		return
	}
	var rec samplelog.Record
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err, errors.Is(err, samplelog.ErrTruncated))
			break
		}
	}
	fmt.Println(r.Records(), "good records")
	// Output:
	// record 9 (32 of 64 bytes): the last record is incomplete (the writer was killed mid-record?) true
	// 9 good records
}

// Writing a log (samplelog.Create(path, h) for a file; samplelog.NewHeader fills in the start
// time, host and kernel): the header first, then 64-byte records.
func ExampleNewWriter() {
	var buf bytes.Buffer
	w, err := samplelog.NewWriter(&buf, samplelog.Header{Role: samplelog.RoleRecv, Stream: 1, Labels: map[string]string{"run": "example"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := base
	w.Write(&samplelog.Record{Type: samplelog.TypeRx, Flags: samplelog.FlagHardware | samplelog.FlagVLAN, Stream: 1, Seq: 0,
		CycleStart: c, SendCall: c + 780000, Txtime: c + 1250000, Timestamp: c + 1253188, TCI: 6<<13 | 3})
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q...\n", buf.Bytes()[:8])

	r, err := samplelog.NewReader(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	var rec samplelog.Record
	if err := r.Next(&rec); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Header.Role, r.Header.Labels, rec.Type, rec.FlagNames(), "VID", rec.VID(), "PCP", rec.PCP(),
		"scheduled time", time.Duration(rec.Timestamp-rec.CycleStart))
	// Output:
	// "TSNCTLOG"...
	// recv map[run:example] rx [hardware vlan] VID 3 PCP 6 scheduled time 1.253188ms
}
