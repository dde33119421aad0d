package analysis

import (
	"bytes"
	"encoding/json"

	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/samplelog"
)

const (
	base  = int64(1795000000000000000) // TAI ns in 2026: 64-bit, no wrap
	cycle = int64(2000000)
)

// rx is a received packet of cycle seq: scheduled time st, RT latency rt.
func rx(stream uint32, seq uint64, st, rt int64) samplelog.Record {
	c := base + int64(seq)*cycle
	return samplelog.Record{Type: samplelog.TypeRx, Flags: samplelog.FlagTxtime, Stream: stream, Seq: seq,
		CycleStart: c, Wakeup: c + rt - 500, SendCall: c + rt, Txtime: c + 1250000, Timestamp: c + st}
}

func tx(seq uint64, rt, wake int64, flags uint8) samplelog.Record {
	c := base + int64(seq)*cycle
	return samplelog.Record{Type: samplelog.TypeTx, Flags: flags | samplelog.FlagTxtime, Seq: seq,
		CycleStart: c, Wakeup: c + 700000 + wake, SendCall: c + rt, Txtime: c + 1250000, PlannedWakeup: c + 700000}
}

func writeLog(t *testing.T, h samplelog.Header, recs []samplelog.Record) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), string(h.Role)+".log")
	w, err := samplelog.Create(path, h)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func analyze(t *testing.T, o Options, paths ...string) *Result {
	t.Helper()
	a := New(o)
	for _, p := range paths {
		if err := a.ReadFile(p, FormatAuto); err != nil {
			t.Fatal(err)
		}
	}
	return a.Result()
}

func TestRxIndicatorsAndCounters(t *testing.T) {
	// seq 0..9 with 3 and 7 lost, 5 duplicated, 8 before 6 (reordered), and a second stream.
	var recs []samplelog.Record
	st := map[uint64]int64{0: 1253188, 1: 1253200, 2: 1253343, 4: 1253250, 5: 1253260, 6: 1253190, 8: 1253300, 9: 1253210}
	for _, s := range []uint64{0, 1, 2, 4, 5, 5, 8, 6, 9} {
		recs = append(recs, rx(0, s, st[s], 28000+int64(s)))
	}
	recs = append(recs, rx(1, 100, 5000, 1000))
	path := writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, recs)
	res := analyze(t, Options{}, path)
	if len(res.Streams) != 2 || res.Streams[0].StreamID != 0 || res.Streams[1].StreamID != 1 {
		t.Fatalf("streams %+v", res.Streams)
	}
	s := res.Streams[0]
	want := Packets{Received: 8, Lost: 2, Duplicates: 1, Reordered: 1}
	if s.Packets != want {
		t.Errorf("packets %+v, want %+v", s.Packets, want)
	}
	sched := s.Indicators[ScheduledTime]
	// independent: sorted 1253188 1253190 1253200 1253210 1253250 1253260 1253300 1253343
	if sched.Count != 8 || sched.Min != 1253188 || sched.Max != 1253343 || sched.P50 != 1253210 || sched.P90 != 1253343 {
		t.Errorf("scheduled_time %+v", sched)
	}
	if sched.Mean != 1253242.6 { // 10025941/8 = 1253242.625
		t.Errorf("mean %v", sched.Mean)
	}
	j := s.Indicators[Jitter]
	if j.PkPk == nil || *j.PkPk != 155 || j.Min != -55 || j.Max != 100 || j.Mean != 0 || j.Stddev != sched.Stddev {
		t.Errorf("jitter %+v", j)
	}
	rt := s.Indicators[RTAppLatency]
	if rt.Min != 28000 || rt.Max != 28009 || s.Sources.RTAppLatency != "receiver" || s.Sources.RxTimestamps != "software" {
		t.Errorf("rt_app_latency %+v, sources %+v", rt, s.Sources)
	}
	if tr := s.Indicators[TxtimeToRx]; tr.Min != 1253188-1250000 {
		t.Errorf("txtime_to_rx %+v", tr)
	}
	if _, ok := s.Indicators[WakeupLatency]; ok {
		t.Error("wake-up latency from a receiver's log")
	}
}

func TestSenderAndReceiverLogsTogether(t *testing.T) {
	var txr []samplelog.Record
	for s := uint64(0); s < 10; s++ {
		flags := uint8(0)
		if s == 9 {
			flags = samplelog.FlagNotLocked
		}
		txr = append(txr, tx(s, 30000+int64(s)*1000, int64(s)*100, flags))
	}
	// seq 4 dropped by ETF (deadline missed), seq 6 planned outside the window (late),
	// seq 2's TX timestamp before the window opens (premature), seq 3's after it closes (late).
	txr = append(txr, samplelog.Record{Type: samplelog.TypeETFDrop, Flags: samplelog.FlagDropMissed, Seq: 4})
	c := func(s uint64) int64 { return base + int64(s)*cycle }
	txr[6].Flags |= samplelog.FlagOutsideWindow
	txr[6].Txtime = c(6) + 1400000
	for s, at := range map[uint64]int64{0: 1250000, 1: 1250100, 2: 1100000, 3: 1300000, 5: 1250050} {
		txr = append(txr, samplelog.Record{Type: samplelog.TypeTxTimestamp, Flags: samplelog.FlagHardware, Seq: s, Timestamp: c(s) + at})
	}
	txPath := writeLog(t, samplelog.Header{Role: samplelog.RoleSend, Send: &samplelog.SendParams{WindowStart: 1200000, WindowEnd: 1300000}}, txr)
	var rxr []samplelog.Record
	for _, s := range []uint64{0, 1, 2, 3, 5, 6, 7} { // 4 dropped, 8 and 9 lost at the end
		r := rx(0, s, 1253000, 0)
		r.Flags |= samplelog.FlagHardware | samplelog.FlagVLAN
		r.TCI = 3<<13 | 3
		rxr = append(rxr, r)
	}
	rxPath := writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, rxr)
	res := analyze(t, Options{}, txPath, rxPath)
	s := res.Streams[0]
	want := Packets{Received: 7, Lost: 2, Sent: 10, ETFDropped: 1, ETFDroppedMissed: 1, OutsideWindow: 1, Premature: 1, Late: 1, NotLocked: 1}
	if s.Packets != want {
		t.Errorf("packets\n %+v, want\n %+v", s.Packets, want)
	}
	if s.Sources.RTAppLatency != "sender" || s.Sources.TxTimestamps != "hardware" || s.Sources.RxTimestamps != "hardware" ||
		s.Sources.WindowCheck != "tx-timestamp" || *s.Sources.VLAN != (VLAN{ID: 3, PCP: 3}) {
		t.Errorf("sources %+v", s.Sources)
	}
	if rt := s.Indicators[RTAppLatency]; rt.Count != 10 || rt.Min != 30000 || rt.Max != 39000 {
		t.Errorf("rt_app_latency from the sender %+v", rt)
	}
	if w := s.Indicators[WakeupLatency]; w.Count != 10 || w.Min != 0 || w.Max != 900 || w.P50 != 400 {
		t.Errorf("wakeup_latency %+v", w)
	}
	// TX timestamp − planned txtime (c+1250000): 0, 100, -150000, 50000, 50
	if e := s.Indicators[TxtimeError]; e.Count != 5 || e.Min != -150000 || e.Max != 50000 || e.P50 != 50 {
		t.Errorf("txtime_error %+v", e)
	}
	// Read together (in either order), the packets' TX and RX timestamps meet: path delay
	// = c+1253000 − TX timestamp for seq 0, 1, 2, 3, 5: 3000, 2900, 153000, -47000, 2950.
	for _, order := range [][]string{{txPath, rxPath}, {rxPath, txPath}} {
		a := New(Options{})
		if err := a.ReadFiles(order, FormatAuto); err != nil {
			t.Fatal(err)
		}
		res := a.Result()
		s := res.Streams[0]
		pd := s.Indicators[PathDelay]
		if pd.Count != 5 || pd.Min != -47000 || pd.Max != 153000 || pd.P50 != 2950 || s.Packets != want || len(res.Files) != 2 {
			t.Errorf("%v: path_delay %+v, packets %+v", order, pd, s.Packets)
		}
	}
}

func TestWarmup(t *testing.T) {
	var recs []samplelog.Record
	for s := uint64(0); s < 100; s++ {
		st := int64(1253000)
		if s < 10 {
			st = 9000000 // the first cycles are slow
		}
		recs = append(recs, rx(0, s, st, 0))
	}
	path := writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, recs)
	for _, o := range []Options{{WarmupPackets: 10}, {WarmupTime: 10 * time.Duration(cycle)}} {
		s := analyze(t, o, path).Streams[0]
		if in := s.Indicators[ScheduledTime]; in.Count != 90 || in.Max != 1253000 || s.Packets.WarmupExcluded != 10 || s.Packets.Received != 90 || s.Packets.Lost != 0 {
			t.Errorf("%+v: %+v %+v", o, in, s.Packets)
		}
	}
	if _, err := ParseWarmup("2s"); err != nil {
		t.Error(err)
	}
	if o, _ := ParseWarmup("500"); o.WarmupPackets != 500 {
		t.Error("500")
	}
	if _, err := ParseWarmup("soon"); err == nil || !strings.Contains(err.Error(), `warmup "soon": want a number of packets`) {
		t.Errorf("err %v", err)
	}
}

const nlExample = `{"type":"rx-packet","object":{"stream-id":0,"sequence-number":612295,"interval-usec":1000,"offset-usec":0,"timestamps":{"names":["interval-start","tx-wakeup","tx-program","tx-last-kernel-netsched","tx-last-kernel-driver","rx-hardware","rx-kernerl-driver","rx-program"],"values":["2018-04-19T05:17:34.771000000Z","2018-04-19T05:17:34.771002291Z","2018-04-19T05:17:34.771002318Z","2018-04-19T05:17:34.770004281Z","2018-04-19T05:17:34.770005647Z","2018-04-19T05:17:34.771021776Z","1970-01-01T00:00:00.000000000Z","2018-04-19T05:17:34.771154365Z"]}}}`

func TestNetlatencyExampleLine(t *testing.T) {
	var p nlParser
	var rec samplelog.Record
	if err := p.parse([]byte(nlExample), &rec); err != nil {
		t.Fatal(err)
	}
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixNano()
	}
	if rec.Stream != 0 || rec.Seq != 612295 || rec.CycleStart != at("2018-04-19T05:17:34.771000000Z") ||
		rec.SendCall != at("2018-04-19T05:17:34.771002318Z") || rec.Timestamp != at("2018-04-19T05:17:34.771021776Z") ||
		rec.Wakeup != at("2018-04-19T05:17:34.771002291Z") || rec.Flags&samplelog.FlagHardware == 0 {
		t.Errorf("record %+v", rec)
	}
	res := analyze(t, Options{}, writeFile(t, nlExample+"\n"+`{"type":"rx-error","object":{}}`+"\n"))
	s := res.Streams[0]
	if s.Indicators[ScheduledTime].Min != 21776 || s.Indicators[RTAppLatency].Min != 2318 || res.Files[0].RxErrors != 1 || res.Files[0].Format != FormatNetlatency {
		t.Errorf("%+v %+v", s.Indicators, res.Files[0])
	}
}

func TestRFC3339FastPathAgreesWithTime(t *testing.T) {
	for _, s := range []string{"1970-01-01T00:00:00.000000000Z", "2000-02-29T23:59:59.999999999Z", "2018-04-19T05:17:34.771021776Z",
		"2100-03-01T00:00:00.000000001Z", "1969-12-31T23:59:59.000000000Z", "2018-04-19T05:17:34.771Z", "2018-04-19T07:17:34.5+02:00"} {
		tm, _ := time.Parse(time.RFC3339Nano, s)
		got, err := parseRFC3339([]byte(s))
		if err != nil || got != tm.UnixNano() {
			t.Errorf("%s: %d %v, want %d", s, got, err, tm.UnixNano())
		}
	}
	if _, err := parseRFC3339([]byte("2018-04-19 05:17")); err == nil {
		t.Error("accepted a bad time")
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadFiles(t *testing.T) {
	good := writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, []samplelog.Record{rx(0, 0, 1, 1), rx(0, 1, 1, 1), rx(0, 2, 1, 1)})
	data, _ := os.ReadFile(good)
	newer := bytes.Clone(data)
	newer[8] = 9
	unknownType := bytes.Clone(data)
	unknownType[len(data)-64] = 77
	for name, c := range map[string]struct {
		content string
		err     string // error wanted, or
		warn    string // a warning with the records read
		records int64
	}{
		"empty":          {content: "", err: "empty file"},
		"foreign":        {content: "hello world\n", err: "not a tsnctl sample log"},
		"newer version":  {content: string(newer), err: "version 9"},
		"header cut":     {content: string(data[:20]), err: "header cut short"},
		"truncated":      {content: string(data[:len(data)-10]), warn: "incomplete", records: 2},
		"unknown type":   {content: string(unknownType), warn: "unknown type", records: 2},
		"bad json line":  {content: nlExample + "\n{\"type\":\"rx-packet\",\"obj\n" + nlExample + "\n", warn: "line 2: not JSON", records: 2},
		"cut json":       {content: nlExample + "\n" + nlExample[:100], warn: "line 2", records: 1},
		"no packets":     {content: `{"type":"rx-error"}` + "\n", err: "no rx-packet line"},
		"only bad lines": {content: "{oops\n", err: "no rx-packet line could be read: line 1"},
		"no type":        {content: `{"a":1}` + "\n", err: "no \"type\""},
		"bad timestamp":  {content: strings.Replace(nlExample, "2018-04-19T05:17:34.771000000Z", "yesterday", 1) + "\n", err: "interval-start"},
	} {
		a := New(Options{})
		err := a.ReadFile(writeFile(t, c.content), FormatAuto)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", name, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case a.Files[0].Records != c.records || !strings.Contains(strings.Join(a.Files[0].Warnings, "|"), c.warn):
			t.Errorf("%s: %d records, warnings %q; want %d and %q", name, a.Files[0].Records, a.Files[0].Warnings, c.records, c.warn)
		}
	}
}

func TestSLA(t *testing.T) {
	path := writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, []samplelog.Record{rx(0, 0, 1253188, 28000), rx(0, 1, 1253343, 29000), rx(0, 3, 1253200, 30000)})
	res := analyze(t, Options{}, path)
	var rules []SLA
	for _, s := range []string{"scheduled_time.p9999<=1300us", "jitter.pk_pk<=1us", "jitter.pk_pk<100ns", "lost==0", "rt_app_latency.max < 1.259ms", "wakeup_latency.p99<=10us", "received>=3"} {
		r, err := ParseSLA(s)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	if res.CheckSLA(rules) {
		t.Fatal("all rules held")
	}
	got := map[string]bool{}
	for _, v := range res.SLA {
		got[v.Rule] = v.OK
	}
	want := map[string]bool{"scheduled_time.p9999<=1300us": true, "jitter.pk_pk<=1us": true, "jitter.pk_pk<100ns": false, "lost==0": false,
		"rt_app_latency.max < 1.259ms": true, "wakeup_latency.p99<=10us": false, "received>=3": true}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: ok=%v, want %v (%+v)", k, got[k], v, res.SLA)
		}
	}
	for s, msg := range map[string]string{"jitter.p42<=1us": "unknown statistic \"p42\"", "latency.p99<=1us": "unknown indicator",
		"lost=0": "want INDICATOR.STAT", "lost==few": "whole number", "jitter.max<=1": "with its unit", "losses==0": "not a packet counter"} {
		if _, err := ParseSLA(s); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", s, err, msg)
		}
	}
}

func TestJSONShape(t *testing.T) {
	path := writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, []samplelog.Record{rx(0, 0, 1253188, 28000), rx(0, 1, 1253343, 29000)})
	b, err := json.Marshal(analyze(t, Options{}, path))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Streams []struct {
			StreamID   *uint32 `json:"stream_id"`
			Packets    map[string]uint64
			Indicators map[string]map[string]any
		}
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	s := v.Streams[0]
	for _, k := range []string{"received", "lost", "duplicates", "reordered"} {
		if _, ok := s.Packets[k]; !ok {
			t.Errorf("packets.%s missing", k)
		}
	}
	for _, ind := range []string{ScheduledTime, RTAppLatency, Jitter} {
		for _, k := range []string{"count", "min_ns", "max_ns", "mean_ns", "stddev_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "p9999_ns"} {
			if _, ok := s.Indicators[ind][k]; !ok {
				t.Errorf("%s.%s missing", ind, k)
			}
		}
	}
	if s.StreamID == nil || s.Indicators[Jitter]["pk_pk_ns"] != 155.0 {
		t.Errorf("stream_id %v, jitter %v", s.StreamID, s.Indicators[Jitter])
	}
}

// A long run: read one file after the other, only the last ringLen packets' TX timestamps are still
// known when the receiver's log comes; merged by ReadFiles, every packet gets its path delay.
func TestPathDelayOfALongRun(t *testing.T) {
	const n = 3 * ringLen
	var txr, rxr []samplelog.Record
	for s := uint64(0); s < n; s++ {
		c := base + int64(s)*cycle
		txr = append(txr, tx(s, 30000, 100, 0), samplelog.Record{Type: samplelog.TypeTxTimestamp, Seq: s, Timestamp: c + 1250000})
		rxr = append(rxr, rx(0, s, 1250000+7000, 0)) // 7 µs on the wire
	}
	txPath := writeLog(t, samplelog.Header{Role: samplelog.RoleSend}, txr)
	rxPath := writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, rxr)
	if pd := analyze(t, Options{}, txPath, rxPath).Streams[0].Indicators[PathDelay]; pd.Count != ringLen {
		t.Errorf("one after the other: %d path delays, want %d", pd.Count, ringLen)
	}
	a := New(Options{})
	if err := a.ReadFiles([]string{rxPath, txPath}, FormatAuto); err != nil {
		t.Fatal(err)
	}
	pd := a.Result().Streams[0].Indicators[PathDelay]
	if pd.Count != n || pd.Min != 7000 || pd.Max != 7000 {
		t.Errorf("merged: %+v", pd)
	}
}

// Cycles that sent nothing between sent ones (the sender skips overrun cycles, or pauses for
// time sync) are counted from the gaps in the sender's cycle starts, once its header gives the
// cycle; several packets per cycle are no gap.
func TestCyclesSkipped(t *testing.T) {
	var txr []samplelog.Record
	for seq, k := range []int64{0, 1, 2, 3, 7, 8, 8, 9, 10, 12, 13} { // 4, 5, 6 and 11 missed
		r := tx(uint64(seq), 30000, 100, 0)
		r.CycleStart = base + k*cycle
		txr = append(txr, r)
	}
	params := &samplelog.SendParams{WindowStart: 1200000, WindowEnd: 1300000, Cycle: cycle, PerCycle: 1}
	res := analyze(t, Options{}, writeLog(t, samplelog.Header{Role: samplelog.RoleSend, Send: params}, txr))
	if got := res.Streams[0].Packets.CyclesSkipped; got != 4 {
		t.Errorf("cycles skipped %d, want 4", got)
	}
	var text bytes.Buffer
	res.WriteText(&text)
	if !strings.Contains(text.String(), "cycles skipped 4") {
		t.Errorf("text output:\n%s", text.String())
	}
	params.Cycle = 0 // an older log: the cycle is unknown, nothing is guessed
	if got := analyze(t, Options{}, writeLog(t, samplelog.Header{Role: samplelog.RoleSend, Send: params}, txr)).Streams[0].Packets.CyclesSkipped; got != 0 {
		t.Errorf("without cycle_ns: %d skipped", got)
	}
}
