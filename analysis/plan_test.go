package analysis

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/samplelog"
)

var updatePlanLogs = flag.Bool("update-plan-logs", false, "write testdata/plan-tx.log and plan-rx.log again")

// planLogs are the sample logs of testdata/plan-streams.yaml's two streams (ids by name: fast 1,
// seed 2). fast (1 ms; txtime 551.072 us, window [251.072, 552.432) us, deadline 600 us) keeps its
// plan: 40 packets, released by the software ETF 300 us before their txtime, received 20 us after
// it. seed (2 ms; txtime 1250 us, window [950, 1251.072) us, deadline 1300 us): 20 packets, of
// which packet 5 is planned 10 us late (txtime 1260 us, outside the window), packet 9 leaves after
// the window (TX timestamp 1252 us), and packets 12 and 13 arrive at 1320 us, after the deadline.
func planLogs() (txh samplelog.Header, tx []samplelog.Record, rxh samplelog.Header, rx []samplelog.Record) {
	txh = samplelog.Header{Role: samplelog.RoleSend, Stream: 2, Send: &samplelog.SendParams{Mode: "txtime", Cycle: 2e6, PerCycle: 1,
		Dest: "192.168.3.2:7788", Iface: "eth1.3", Priority: 6, Size: 64, CPU: -1, WindowStart: 950000, WindowEnd: 1251072, Offset: 300000,
		WakeAdvance: 500000, Plan: "plan-streams.yaml", Streams: "seed=2,fast=1"}}
	rxh = samplelog.Header{Role: samplelog.RoleRecv, Recv: &samplelog.RecvParams{Listen: ":7788"}}
	type pkt struct {
		stream           uint32
		seq              uint64
		cs, txtime, txTS int64
		rxTS             int64
	}
	var ps []pkt
	for k := int64(0); k < 40; k++ {
		cs := base + k*1e6
		ps = append(ps, pkt{1, uint64(k), cs, cs + 551072, cs + 251072 + 4000, cs + 571072})
		if k%2 == 0 {
			cs, seq := base+k*1e6, uint64(k/2)
			p := pkt{2, seq, cs, cs + 1250000, cs + 954000, cs + 1280000}
			switch seq {
			case 5:
				p.txtime, p.txTS = cs+1260000, cs+964000
			case 9:
				p.txTS = cs + 1252000
			case 12, 13:
				p.rxTS = cs + 1320000
			}
			ps = append(ps, p)
		}
	}
	for _, p := range ps {
		wake := p.txtime - 500000
		tx = append(tx, samplelog.Record{Type: samplelog.TypeTx, Flags: samplelog.FlagTxtime, Stream: p.stream, Seq: p.seq, CycleStart: p.cs,
			Wakeup: wake + 3000, SendCall: wake + 8000, Txtime: p.txtime, PlannedWakeup: wake},
			samplelog.Record{Type: samplelog.TypeTxTimestamp, Stream: p.stream, Seq: p.seq, Timestamp: p.txTS})
		rx = append(rx, samplelog.Record{Type: samplelog.TypeRx, Flags: samplelog.FlagTxtime, Stream: p.stream, Seq: p.seq, CycleStart: p.cs,
			Wakeup: wake + 3000, SendCall: wake + 8000, Txtime: p.txtime, Timestamp: p.rxTS})
	}
	return
}

// The logs in testdata are planLogs' (go test -run TestPlan -update-plan-logs writes them again).
func planLogPaths(t *testing.T) (tx, rx, cfg string) {
	t.Helper()
	tx, rx, cfg = filepath.Join("testdata", "plan-tx.log"), filepath.Join("testdata", "plan-rx.log"), filepath.Join("testdata", "plan-streams.yaml")
	if *updatePlanLogs {
		txh, txr, rxh, rxr := planLogs()
		for _, l := range []struct {
			path string
			h    samplelog.Header
			recs []samplelog.Record
		}{{tx, txh, txr}, {rx, rxh, rxr}} {
			w, err := samplelog.Create(l.path, l.h)
			if err != nil {
				t.Fatal(err)
			}
			for i := range l.recs {
				w.Write(&l.recs[i])
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return
}

func planOf(t *testing.T, cfg string) []StreamPlan {
	t.Helper()
	p, err := LoadPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Each planned stream is judged by its own row: fast holds, seed fails for each of its three
// faults, and the report has one row per stream.
func TestPlanJudgesEachStream(t *testing.T) {
	txPath, rxPath, cfg := planLogPaths(t)
	plans := planOf(t, cfg)
	if len(plans) != 2 || plans[0].Name != "fast" || plans[0].ID != 1 || plans[0].Open != 251072 || plans[0].Close != 552432 || plans[0].Deadline != 600000 ||
		plans[1].Name != "seed" || plans[1].Txtime != 1250000 || plans[1].Deadline != 1300000 {
		t.Fatalf("plan: %+v", plans)
	}
	res := analyze(t, Options{Plan: plans}, txPath, rxPath)
	if len(res.Plan) != 2 {
		t.Fatalf("plan results: %+v", res.Plan)
	}
	fast, seed := res.Plan[0], res.Plan[1]
	if !fast.OK || fast.Sent != 40 || fast.Received != 40 || fast.TxtimeOutside+fast.Premature+fast.Late+fast.OverDeadline != 0 ||
		fast.WindowCheck != "tx-timestamp" || fast.ScheduledMax == nil || *fast.ScheduledMax != 571072 {
		t.Errorf("fast: %+v", fast)
	}
	if seed.OK || seed.Sent != 20 || seed.Received != 20 || seed.TxtimeOutside != 1 || seed.Premature != 0 || seed.Late != 1 || seed.OverDeadline != 2 ||
		seed.Reason != "1 txtimes outside the window; 1 sent outside the window (0 premature, 1 late); 2 received after the deadline" {
		t.Errorf("seed: %+v", seed)
	}
	if res.PlanOK() {
		t.Error("PlanOK with seed failing")
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings: %q", res.Warnings)
	}
	var out bytes.Buffer
	res.WriteText(&out)
	text := out.String()
	rows := 0
	for _, line := range strings.Split(text[strings.Index(text, "planned streams"):], "\n") {
		switch {
		case strings.HasPrefix(line, "fast "):
			rows++
			for _, want := range []string{"[251.072, 552.432)", "600.000", "571.072", " ok"} {
				if !strings.Contains(line, want) {
					t.Errorf("fast's row has no %q: %s", want, line)
				}
			}
		case strings.HasPrefix(line, "seed "):
			rows++
			if !strings.Contains(line, "[950.000, 1251.072)") || !strings.Contains(line, "1320.000") || !strings.Contains(line, "FAIL: 1 txtimes outside") {
				t.Errorf("seed's row: %s", line)
			}
		}
	}
	if rows != 2 {
		t.Errorf("%d rows, want one per stream:\n%s", rows, text)
	}
	b, _ := json.Marshal(res)
	if !strings.Contains(string(b), `"plan":[{"stream_id":1,"name":"fast"`) {
		t.Errorf("JSON: %.300s", b)
	}
}

// Without the receiver's log the deadline cannot be judged: a failure, said so; without a plan
// no stream is judged; a stream the plan does not have and a header that names other ids are
// warned about.
func TestPlanNeedsTheReceiverLog(t *testing.T) {
	txPath, rxPath, cfg := planLogPaths(t)
	plans := planOf(t, cfg)
	res := analyze(t, Options{Plan: plans}, txPath)
	for _, p := range res.Plan {
		if p.OK || !strings.Contains(p.Reason, "no RX timestamps: the deadline could not be judged") {
			t.Errorf("%s: %+v", p.Name, p)
		}
	}
	if res := analyze(t, Options{}, txPath, rxPath); len(res.Plan) != 0 || !res.PlanOK() {
		t.Errorf("no plan given: %+v", res.Plan)
	}
	// A plan that gives seed another id (its file changed since the send).
	other := []StreamPlan{plans[1]}
	other[0].ID = 3
	res = analyze(t, Options{Plan: other}, txPath, rxPath)
	if len(res.Plan) != 0 || res.PlanOK() || len(res.Warnings) < 3 ||
		!strings.Contains(strings.Join(res.Warnings, "\n"), "the sender sent stream seed as id 2, which the plan given does not") ||
		!strings.Contains(strings.Join(res.Warnings, "\n"), "no stream of the plan is in the logs") {
		t.Errorf("mismatched plan: %+v %q", res.Plan, res.Warnings)
	}
}
