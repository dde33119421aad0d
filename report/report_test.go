package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/analysis"
	"github.com/tsnctl/tsnctl/samplelog"
)

const base = int64(1795000000000000000)

// seedCase writes a sender's and a receiver's log shaped like the seed's cases: without TSN the
// scheduled time follows the RT application latency (28 µs – 1.26 ms); with taprio + ETF it
// stays at 1253.2 µs ± 80 ns.
func seedCase(t testing.TB, dir, name string, tsn bool, n int, seed uint64, labels ...map[string]string) string {
	r := rand.New(rand.NewPCG(seed, 7))
	d := filepath.Join(dir, name)
	os.MkdirAll(d, 0o755)
	mode := "plain"
	if tsn {
		mode = "txtime"
	}
	txw, err := samplelog.Create(filepath.Join(d, "tx.log"), samplelog.Header{Role: samplelog.RoleSend, Host: "guest1", Kernel: "6.12.95",
		StartedAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Send: &samplelog.SendParams{Mode: mode, Cycle: 2000000, WindowStart: 1200000, WindowEnd: 1300000, Offset: 50000,
			Iface: "eth1.3", Priority: 3, FromQdisc: "eth1"}})
	if err != nil {
		t.Fatal(err)
	}
	rh := samplelog.Header{Role: samplelog.RoleRecv, Host: "guest2", Kernel: "6.12.95", Recv: &samplelog.RecvParams{Iface: "eth1.3"}}
	if len(labels) > 0 {
		rh.Labels = labels[0]
	}
	rxw, err := samplelog.Create(filepath.Join(d, "rx.log"), rh)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		c := base + int64(i)*2000000
		rt := 28000 + int64(r.ExpFloat64()*20000)
		if r.IntN(500) == 0 {
			rt += 1200000
		}
		st := rt + 15000
		txtime := int64(0)
		if tsn {
			txtime = c + 1250000
			st = 1253188 + int64(r.NormFloat64()*40)
		}
		plannedWake := c
		if tsn {
			plannedWake = c + 700000
		}
		wake := plannedWake + rt/2
		tx := samplelog.Record{Type: samplelog.TypeTx, Seq: uint64(i), CycleStart: c, Wakeup: wake, SendCall: c + rt, Txtime: txtime, PlannedWakeup: plannedWake}
		txw.Write(&tx)
		if i%997 == 500 {
			continue // lost
		}
		rx := samplelog.Record{Type: samplelog.TypeRx, Flags: samplelog.FlagHardware | samplelog.FlagVLAN, Seq: uint64(i),
			CycleStart: c, Wakeup: wake, SendCall: c + rt, Txtime: txtime, Timestamp: c + st, TCI: 3<<13 | 3}
		rxw.Write(&rx)
	}
	txw.Close()
	rxw.Close()
	if tsn { // the node's time-sync record (tsnctl ptp run --log): LOCKED but for a short HOLDOVER
		var b strings.Builder
		for i := range 40 {
			state := "LOCKED"
			if i >= 20 && i < 23 {
				state = "HOLDOVER"
			}
			fmt.Fprintf(&b, `{"state":%q,"port_state":"SLAVE","offset_ns":%d,"path_delay_ns":700,"updated":%q}`+"\n", state,
				int(r.NormFloat64()*30), time.Date(2026, 11, 22, 10, 0, i, 0, time.UTC).Format(time.RFC3339Nano))
		}
		os.WriteFile(filepath.Join(d, "ptp.log"), []byte(b.String()), 0o644)
	}
	return d
}

// seedCases loads the seed's case 1 (no TSN) and case 2 (taprio + ETF), n packets each, as runs
// named names[0] and names[1]; labels go into case 2's receiver log.
func seedCases(t testing.TB, dir string, names [2]string, n int, opts analysis.Options, labels ...map[string]string) []*Run {
	var runs []*Run
	for i, name := range names {
		var l []map[string]string
		if i == 1 {
			l = labels
		}
		r, err := Load(name+"="+seedCase(t, dir, name, i == 1, n, uint64(i), l...), opts, "auto")
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	return runs
}

func TestReportFiles(t *testing.T) {
	dir := t.TempDir()
	runs := seedCases(t, dir, [2]string{"case 1 no TSN", "case 2 taprio+ETF"}, 5000, analysis.Options{WarmupPackets: 10})
	out := filepath.Join(dir, "report")
	files, err := Write(out, &Report{Title: "seed", Generated: time.Now(), Runs: runs})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"report.html", "report.md", "report.json", "series-case-1-no-tsn-scheduled_time.png", "series-case-2-taprio-etf-rt_app_latency.svg", "hist-jitter-case-1-no-tsn.png",
		"hist-scheduled_time.png", "hist-jitter.svg", "ccdf-scheduled_time.png", "ccdf-rt_app_latency.svg", "sync-case-2-taprio-etf.png"}
	for _, w := range want {
		st, err := os.Stat(filepath.Join(out, w))
		if err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v (%d files written)", w, err, len(files.Files))
		}
	}
	var rep Report
	b, _ := os.ReadFile(filepath.Join(out, "report.json"))
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 || rep.Runs[1].Result.Streams[0].Indicators[analysis.Jitter].Count == 0 {
		t.Fatalf("report.json: %d runs", len(rep.Runs))
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	for _, s := range []string{"| mode | plain | txtime |", "| window |  | 1.2ms – 1.3ms (offset 50µs) |",
		"| **scheduled_time (µs)** |", "| LOCKED | – | 92.3 % |", "![Histogram of scheduled_time](hist-scheduled_time.png)", "| RX timestamps | hardware | hardware |"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	if n := strings.Count(string(html), `<img class="plot"`); n != len(rep.Plots) || n < 9 {
		t.Errorf("report.html embeds %d plots of %d", n, len(rep.Plots))
	}
	if strings.Contains(string(html), "http://") || strings.Contains(string(html), "https://") {
		t.Error("report.html refers to the network")
	}
	// The answer leads: the summary, then the headline plot, then the setup; in report.md too.
	h := string(html)
	sum, head, setup := strings.Index(h, `<h2>Summary</h2>`), strings.Index(h, `<figure id="headline-scheduled_time" class="headline">`), strings.Index(h, `<h2>Setup</h2>`)
	if sum < 0 || head < sum || setup < head || strings.Count(h, `id="headline-scheduled_time"`) != 1 || strings.Count(h, `id="hist-scheduled_time"`) != 1 {
		t.Errorf("report.html order: summary at %d, headline at %d, setup at %d", sum, head, setup)
	}
	m := string(md)
	if i, j := strings.Index(m, "## Summary"), strings.Index(m, "## Setup"); i < 0 || j < i || !strings.Contains(m[i:j], "headline-scheduled_time.png") {
		t.Errorf("report.md does not lead with the summary and the headline plot:\n%.1500s", m)
	}
}

// The summary's figures are the runs' own: scheduled time p50 and spreads, drops, losses, SLA
// verdicts, share LOCKED and labels, one row per run.
func TestSummary(t *testing.T) {
	dir := t.TempDir()
	runs := seedCases(t, dir, [2]string{"case 1", "case 2"}, 2000, analysis.Options{WarmupPackets: 10},
		map[string]string{"time base": "guest virtual time"}) // as tsnctl recv --label writes it
	sla, _ := analysis.ParseSLA("scheduled_time.p50<=1000us")
	for _, r := range runs {
		r.Result.CheckSLA([]analysis.SLA{sla})
	}
	tab := Summary(runs)
	if len(tab.Rows) != 2 || len(tab.Columns) != len(tab.Rows[0].Cells) {
		t.Fatalf("%+v", tab)
	}
	for i, r := range runs {
		in := r.Result.Streams[0].Indicators[analysis.ScheduledTime]
		p := r.Result.Streams[0].Packets
		got := tab.Rows[i].Cells
		want := []string{analysis.Micros(float64(in.P50)), analysis.Micros(float64(in.P99 - in.Min)), analysis.Micros(float64(in.Max - in.Min)),
			fmt.Sprint(p.ETFDropped), fmt.Sprint(p.Lost), fmt.Sprint(p.CyclesSkipped)}
		for k := range want {
			if got[k] != want[k] {
				t.Errorf("%s, %s: %q, want %q", r.Name, tab.Columns[k], got[k], want[k])
			}
		}
	}
	c1, c2 := tab.Rows[0].Cells, tab.Rows[1].Cells
	if c1[6] != "1 ok" || c2[6] != "1 violated, 0 ok" || c1[7] != "–" || c2[7] != "92.3 %" || c1[8] != "" || c2[8] != "time base: guest virtual time" {
		t.Errorf("verdicts, sync, labels: %q / %q", c1[6:], c2[6:])
	}
	if c1[4] != "2" || tab.Rows[0].Name != "case 1" {
		t.Errorf("case 1 lost %s (2 of 2000 are left out of the logs)", c1[4])
	}
	// The headline overlays the runs of the first run's cycle; a 10 ms run is left to the details.
	other, err := Load("10 ms="+seedCase(t, dir, "ten", true, 200, 9), analysis.Options{}, "auto")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range other.Result.Files {
		if f.Header != nil && f.Header.Send != nil {
			f.Header.Send.Cycle = 10_000_000
		}
	}
	plots, err := Plots(append(runs, other))
	if err != nil {
		t.Fatal(err)
	}
	if plots[0].Name != HeadlineName || plots[0].Sources != 2 || !strings.Contains(plots[0].Title, "(runs with a 2ms cycle)") {
		t.Errorf("headline %s: %d sources, %q", plots[0].Name, plots[0].Sources, plots[0].Title)
	}
	for _, p := range plots {
		if p.Name == "hist-scheduled_time" && p.Sources != 3 {
			t.Errorf("the details' histogram has %d runs, want all 3", p.Sources)
		}
	}
}

// The headline shows each distinct transmit window of its runs (from the send logs' headers) behind
// their packets, named after the runs that share it, with its txtime; plain runs have none.
// Mutation it catches: windowLanes keying by run (a lane per run) or taking plain runs' windows.
func TestHeadlineWindows(t *testing.T) {
	dir := t.TempDir()
	runs := seedCases(t, dir, [2]string{"case 1", "case 2"}, 300, analysis.Options{})
	three := seedCase(t, dir, "case 3", true, 300, 3)
	r3, err := Load("case 3="+three, analysis.Options{}, "auto")
	if err != nil {
		t.Fatal(err)
	}
	runs = append(runs, r3)
	lanes := windowLanes(linesOf(runs))
	if len(lanes) != 1 || lanes[0].Name != "window of case 2, case 3" ||
		!slices.Equal(lanes[0].Windows, []Span{{1200 * time.Microsecond, 1300 * time.Microsecond}}) ||
		!slices.Equal(lanes[0].Txtimes, []time.Duration{1250 * time.Microsecond}) {
		t.Fatalf("lanes: %+v", lanes)
	}
	plots, err := Plots(runs)
	if err != nil {
		t.Fatal(err)
	}
	if plots[0].Name != HeadlineName || !bytes.Contains(plots[0].SVG, []byte("window of case 2, case 3")) {
		t.Errorf("the headline does not name the window")
	}
}

// The report lists every ETF drop a run's result lists, in the Markdown and the HTML, with whose
// delay it was; and the reader's notes under the summary.
func TestReportDrops(t *testing.T) {
	late := int64(16000)
	res := &analysis.Result{Streams: []analysis.StreamResult{{Drops: []analysis.ETFDrop{
		{Seq: 7, Code: "missed", Txtime: 1250000, HandedOver: -250000, ETFDelta: 16000, ReleaseLate: &late},
		{Seq: 9, Code: "invalid", Txtime: 1250000, HandedOver: 3000},
		{Seq: 11, Code: "invalid", Txtime: 1250000, HandedOver: -10000},
	}}}}
	runs := []*Run{{Name: "case 3", Result: res}, {Name: "case 2", Result: &analysis.Result{Streams: []analysis.StreamResult{{}}}}}
	tab := Drops(runs)
	want := [][]string{
		{"7", "missed", "1250.000", "-250.000", "16.000", "the kernel's: ETF released it after its txtime"},
		{"9", "invalid", "1250.000", "3.000", "–", "the sender's: it sent after the txtime"},
		{"11", "invalid", "1250.000", "-10.000", "–", "the kernel's: its send path reached ETF after the txtime"},
	}
	if len(tab.Rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(tab.Rows), len(want), tab.Rows)
	}
	for i, r := range tab.Rows {
		if r.Name != "case 3" || strings.Join(r.Cells, "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: %s %q, want case 3 %q", i, r.Name, r.Cells, want[i])
		}
	}
	dir := t.TempDir()
	if _, err := Write(dir, &Report{Title: "drops", Runs: runs, Notes: []string{"The floor: a software release."}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.md", "report.html"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "ETF drops") || !strings.Contains(string(b), "the sender&#39;s: it sent after the txtime") && !strings.Contains(string(b), "the sender's: it sent after the txtime") {
			t.Errorf("%s has no ETF drops table", f)
		}
		if !strings.Contains(string(b), "The floor: a software release.") {
			t.Errorf("%s has no note", f)
		}
	}
}
