package analysis

import (
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/samplelog"
)

// tsnctl report's rules: for one run ("RUN: RULE"), relative to another run (FACTOR*[RUN]), the
// spread (min → p99) and the share of time LOCKED.
func TestSLAAcrossRuns(t *testing.T) {
	run := func(sts ...int64) *Result {
		var recs []samplelog.Record
		for i, st := range sts {
			recs = append(recs, rx(0, uint64(i), st, 28000))
		}
		return analyze(t, Options{}, writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, recs))
	}
	names := []string{"case 1: no TSN", "case 2: taprio + ETF"}
	results := []*Result{run(13000, 14000, 1400000), run(1241000, 1242000, 1245000)} // spreads 1387 and 4 µs
	all := rules(t,
		"lost==0",
		"case 1: no TSN: scheduled_time.spread>=20*[case 2: taprio + ETF]",
		"case 2: taprio + ETF: scheduled_time.spread<6us",
		"case 2: taprio + ETF: scheduled_time.spread >= 0.5 × [case 1: no TSN]",
		"case 2: taprio + ETF: sync.locked>=100%",
	)
	ok, err := CheckRuns(names, results, all)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatal("all rules held; two should not")
	}
	type verdict struct {
		ok            bool
		actual, limit string
	}
	want := []map[string]verdict{
		{"lost==0": {true, "0", ""}, all[1].Rule: {true, "1387.000 us", "80.000 us"}},
		{"lost==0": {true, "0", ""}, all[2].Rule: {true, "4.000 us", ""}, all[3].Rule: {false, "4.000 us", "693.500 us"},
			all[4].Rule: {false, "no time-sync log in this run (give tsnctl ptp run --log's file with the run's logs)", ""}},
	}
	for i, res := range results {
		if len(res.SLA) != len(want[i]) {
			t.Errorf("%s: %d verdicts, want %d: %+v", names[i], len(res.SLA), len(want[i]), res.SLA)
		}
		for _, v := range res.SLA {
			w, known := want[i][v.Rule]
			shown := v.Shown("us")
			switch {
			case !known:
				t.Errorf("%s: judged by %q, a rule for another run", names[i], v.Rule)
			case v.OK != w.ok:
				t.Errorf("%s: %q ok=%v, want %v (%s)", names[i], v.Rule, v.OK, w.ok, shown)
			case w.limit == "" && shown != w.actual, w.limit != "" && shown != w.actual+" (limit "+w.limit+")":
				t.Errorf("%s: %q shown as %q, want %q limit %q", names[i], v.Rule, shown, w.actual, w.limit)
			}
		}
	}

	// A rule naming a run that is not there names the runs.
	_, err = CheckRuns(names, results, rules(t, "case 3: lost==0"))
	if err == nil || !strings.Contains(err.Error(), `no run is named "case 3"`) || !strings.Contains(err.Error(), names[1]) {
		t.Errorf("unknown run: %v", err)
	}
	_, err = CheckRuns(names, results, rules(t, "lost<=2*[case 9]"))
	if err == nil || !strings.Contains(err.Error(), `"case 9"`) {
		t.Errorf("unknown reference: %v", err)
	}

	for s, msg := range map[string]string{
		": lost==0":                     "want INDICATOR.STAT",
		"lost<=2*[case 1":               "FACTOR*[RUN]",
		"lost<=two*[case 1]":            "FACTOR*[RUN]",
		"sync.locked>=101%":             "0%-100%",
		"sync.offset<=1ms":              "not a time-sync statistic",
		"case 1: jitter.p42<=1us":       "unknown statistic",
		"case 1: scheduled_time<=1us":   "not a packet counter",
		"case 1: scheduled_time.spread": "want INDICATOR.STAT",
	} {
		if r, err := ParseSLA(s); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %+v, %v; want an error with %q", s, r, err, msg)
		}
	}
	if r, err := ParseSLA("sync.locked>=0.995"); err != nil || r.Value != 0.995 {
		t.Errorf("a fraction: %+v %v", r, err)
	}
	if r, err := ParseSLA("sync.locked>=99.5%"); err != nil || r.Value != 0.995 {
		t.Errorf("a percentage: %+v %v", r, err)
	}
}

// Each ETF drop is listed with what says whose delay it was: the error queue's code, when the
// sender handed the packet over against its txtime (1250 µs), and for a missed one how late ETF's
// release came at least (due at txtime − delta, or at once when handed over later).
func TestETFDropsAttributed(t *testing.T) {
	recs := []samplelog.Record{tx(0, 1000000, 0, 0), tx(1, 1245000, 0, 0), tx(2, 1253000, 0, 0), tx(3, 1240000, 0, 0)}
	recs = append(recs,
		samplelog.Record{Type: samplelog.TypeETFDrop, Flags: samplelog.FlagDropMissed, Seq: 0},
		samplelog.Record{Type: samplelog.TypeETFDrop, Flags: samplelog.FlagDropMissed, Seq: 1},
		samplelog.Record{Type: samplelog.TypeETFDrop, Flags: samplelog.FlagDropInvalid, Seq: 2},
		samplelog.Record{Type: samplelog.TypeETFDrop, Flags: samplelog.FlagDropInvalid, Seq: 3})
	h := samplelog.Header{Role: samplelog.RoleSend, Send: &samplelog.SendParams{Mode: "txtime", WindowStart: 1200000, WindowEnd: 1300000, ETFDelta: 16000}}
	s := analyze(t, Options{}, writeLog(t, h, recs)).Streams[0]
	want := []string{
		"seq 0 missed: its txtime (1250.000 us in its cycle) passed in the queue; handed to the kernel 250.000 us before it; ETF's release (delta 16.000 us) came over 16.000 us late",
		"seq 1 missed: its txtime (1250.000 us in its cycle) passed in the queue; handed to the kernel 5.000 us before it; ETF's release (delta 16.000 us) came over 5.000 us late",
		"seq 2 invalid: handed to the kernel 3.000 us after its txtime (1250.000 us in its cycle): the sender was late",
		"seq 3 invalid: handed to the kernel 10.000 us before its txtime (1250.000 us in its cycle), but it reached ETF after it: the send path was delayed",
	}
	if s.Packets.ETFDropped != 4 || len(s.Drops) != len(want) {
		t.Fatalf("%d drops counted, %d listed: %+v", s.Packets.ETFDropped, len(s.Drops), s.Drops)
	}
	for i, d := range s.Drops {
		if got := d.Shown("us"); got != want[i] {
			t.Errorf("drop %d:\n got %s\nwant %s", i, got, want[i])
		}
	}

	// Without the delta (a sender that did not know its ETF) a missed drop's lateness is not guessed.
	h.Send.ETFDelta = 0
	if d := analyze(t, Options{}, writeLog(t, h, recs)).Streams[0].Drops[0]; d.ReleaseLate != nil || strings.Contains(d.Shown("us"), "late") {
		t.Errorf("lateness without a delta: %s", d.Shown("us"))
	}
}
