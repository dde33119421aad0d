package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/samplelog"
)

// recvLog writes a receiver's log of n packets with a scheduled time of 1253 µs + (seq % 5) ns.
func recvLog(t *testing.T, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "recv.log")
	w, err := samplelog.Create(p, samplelog.Header{Role: samplelog.RoleRecv, Host: "h", Kernel: "k"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		c := int64(1795000000000000000) + int64(i)*2000000
		r := samplelog.Record{Type: samplelog.TypeRx, Seq: uint64(i), CycleStart: c, Wakeup: c + 1000, SendCall: c + 28000, Timestamp: c + 1253000 + int64(i%5)}
		w.Write(&r)
	}
	w.Close()
	return p
}

func TestAnalyzeCommand(t *testing.T) {
	log := recvLog(t, 100)
	out, err := run(t, "analyze", "-o", "json", "--sla", "jitter.pk_pk<=4ns", "--sla", "lost==0", log)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var res struct {
		Streams []struct {
			Indicators map[string]map[string]any
		}
		SLA []struct{ OK bool }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err, out)
	}
	if j := res.Streams[0].Indicators["jitter"]; j["pk_pk_ns"] != 4.0 || j["count"] != 100.0 || len(res.SLA) != 2 {
		t.Errorf("jitter %v, sla %v", j, res.SLA)
	}

	// A violated SLA: listed, exit status 1.
	out, err = run(t, "analyze", "--sla", "scheduled_time.max<1253us", log)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out, "FAIL stream 0: scheduled_time.max<1253us (actual 1253.004 us)") {
		t.Errorf("err %v\n%s", err, out)
	}
	for args, msg := range map[string]string{
		"analyze --sla jitter.p42<1us " + log: `unknown statistic "p42"`,
		"analyze --warmup soon " + log:        `--warmup "soon"`,
		"analyze -o yaml " + log:              `-o "yaml"`,
		"analyze /nonexistent.log":            "no such file",
		"analyze " + writeFile(t, ""):         "empty file",
		"report " + log:                       "--out",
		"report --out " + t.TempDir() + " x=": "no files",
	} {
		if _, err := run(t, strings.Fields(args)...); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", args, err, msg)
		}
	}
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	a, b := recvLog(t, 50), recvLog(t, 80)
	out, err := run(t, "report", "--out", dir, "--title", "two runs", "first="+a, "second="+b)
	if err != nil || !strings.Contains(out, filepath.Join(dir, "report.html")) {
		t.Fatalf("%v\n%s", err, out)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil || !strings.Contains(string(md), "|  | first | second |") || !strings.Contains(string(md), "| received | 50 | 80 |") {
		t.Errorf("report.md:\n%s", md)
	}
	// An SLA violated in one run: the report is written and the status is 1.
	_, err = run(t, "report", "--out", dir, "--sla", "received>=60", "first="+a, "second="+b)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("err %v", err)
	}
	js, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if !strings.Contains(string(js), `"sla_ok": false`) {
		t.Error("report.json lacks the SLA verdict")
	}

	// A rule for one run judges that run only; standard output lists what was violated.
	out, err = run(t, "report", "--out", dir, "--sla", "first: received>=60", "first="+a, "second="+b)
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out, "  first, stream 0: received>=60: 50") || strings.Contains(out, "second,") {
		t.Errorf("err %v\n%s", err, out)
	}
	if _, err := run(t, "report", "--out", dir, "--sla", "second: received>=0.5*[first]", "first="+a, "second="+b); err != nil {
		t.Errorf("80 >= 0.5 x 50: %v", err)
	}
	// A rule naming a run not given is refused, with the runs; analyze judges one run only.
	if _, err := run(t, "report", "--out", dir, "--sla", "third: lost==0", "first="+a, "second="+b); err == nil || !strings.Contains(err.Error(), `no run is named "third"`) {
		t.Errorf("unknown run: %v", err)
	}
	if _, err := run(t, "analyze", "--sla", "first: lost==0", a); err == nil || !strings.Contains(err.Error(), "to tsnctl report") {
		t.Errorf("analyze with a run's rule: %v", err)
	}
}

// analyze -f CONFIG: one row per planned stream, each judged by its own window and deadline; a
// stream that misses its plan fails the run (exit status 1).
func TestAnalyzePlannedStreams(t *testing.T) {
	dir := "../../analysis/testdata/"
	out, err := run(t, "analyze", "-f", dir+"plan-streams.yaml", dir+"plan-tx.log", dir+"plan-rx.log")
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("err %v\n%s", err, out)
	}
	var fast, seed string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "fast ") {
			fast = line
		}
		if strings.HasPrefix(line, "seed ") {
			seed = line
		}
	}
	if !strings.HasSuffix(fast, " ok") || !strings.Contains(seed, "FAIL: 1 txtimes outside the window") || !strings.Contains(seed, "2 received after the deadline") {
		t.Errorf("rows:\n%s\n%s\n%s", fast, seed, out)
	}
	// The JSON carries the same verdicts (and the same exit status).
	if out, err := run(t, "analyze", "-f", dir+"plan-streams.yaml", "-o", "json", dir+"plan-tx.log", dir+"plan-rx.log"); err == nil || !strings.Contains(out, `"name": "fast"`) {
		t.Errorf("json: %v\n%.400s", err, out)
	}
	if _, err := run(t, "analyze", "-f", dir+"nope.yaml", dir+"plan-tx.log"); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("missing plan file: %v", err)
	}
}

// report -f CONFIG: the planned streams' rows (analyze -f's) for the run that carries them, the
// plan's schedule drawn beside them, an ad-hoc run (stream id 0) not judged; a stream that misses
// its plan makes the status 1, as analyze -f's.
// Mutation it catches: report -f drawing the schedule but not judging by the plan (no table,
// status 0).
func TestReportPlannedStreams(t *testing.T) {
	dir, td := t.TempDir(), "../../analysis/testdata/"
	adhoc := recvLog(t, 50)
	out, err := run(t, "report", "--out", dir, "-f", td+"plan-streams.yaml", "planned="+td+"plan-tx.log,"+td+"plan-rx.log", "ad hoc="+adhoc)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out, "a planned stream missed its window or deadline") {
		t.Fatalf("err %v\n%s", err, out)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	var rows []string
	for _, l := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(l, "| planned | ") || strings.HasPrefix(l, "| ad hoc | ") {
			if strings.Count(l, "|") > 12 { // the planned streams' table, not the summary
				rows = append(rows, l)
			}
		}
	}
	if len(rows) != 2 || !strings.HasPrefix(rows[0], "| planned | fast | ") || !strings.HasSuffix(rows[0], "| ok |") ||
		!strings.HasPrefix(rows[1], "| planned | seed | ") || !strings.Contains(rows[1], "FAIL: 1 txtimes outside the window") {
		t.Errorf("report.md's planned streams, want fast ok and seed failing, ad hoc absent:\n%s\n%s", strings.Join(rows, "\n"), md)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	js, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	var rep struct {
		Schedule *struct{ Name string } `json:"schedule"`
	}
	if err := json.Unmarshal(js, &rep); err != nil || rep.Schedule == nil {
		t.Fatalf("report.json: %v, no schedule", err)
	}
	for _, ext := range []string{".png", ".svg"} {
		if _, err := os.Stat(filepath.Join(dir, rep.Schedule.Name+ext)); err != nil {
			t.Errorf("the schedule's figure: %v", err)
		}
	}
	if !strings.Contains(string(html), `<h2>Planned streams</h2>`) || !strings.Contains(string(html), `id="`+rep.Schedule.Name+`"`) ||
		!strings.Contains(string(md), "!["+"Schedule of") {
		t.Errorf("report.html or report.md lack the planned streams' section or the schedule's figure")
	}
	// Without -f: no such section, and the status is the SLA's alone.
	if out, err := run(t, "report", "--out", dir, "planned="+td+"plan-tx.log,"+td+"plan-rx.log"); err != nil {
		t.Errorf("without -f: %v\n%s", err, out)
	}
	if html, _ := os.ReadFile(filepath.Join(dir, "report.html")); strings.Contains(string(html), "Planned streams") {
		t.Error("a report without -f shows a planned streams' section")
	}
}
