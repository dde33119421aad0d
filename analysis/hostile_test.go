package analysis

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/samplelog"
)

func rules(t *testing.T, texts ...string) []SLA {
	t.Helper()
	var out []SLA
	for _, s := range texts {
		r, err := ParseSLA(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// An SLA with nothing to judge fails: a log with only a header, or a warm-up longer than the run.
func TestSLAWithNothingToJudgeFails(t *testing.T) {
	empty := writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, nil)
	short := writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, []samplelog.Record{rx(0, 0, 1253188, 28000), rx(0, 1, 1253343, 29000)})
	for name, res := range map[string]*Result{"header only": analyze(t, Options{}, empty), "warm-up longer than the run": analyze(t, Options{WarmupPackets: 10}, short)} {
		if res.CheckSLA(rules(t, "lost==0", "scheduled_time.p99<=1300us")) {
			t.Errorf("%s: the SLA held with nothing to judge: %+v", name, res.SLA)
		}
		if len(res.SLA) == 0 || !strings.Contains(res.SLA[0].Reason+res.SLA[len(res.SLA)-1].Reason, "no") {
			t.Errorf("%s: no reason given: %+v", name, res.SLA)
		}
	}
}

// Two runs of `tsnctl send` into one `tsnctl recv`: the second run starts at sequence 0 in later
// cycles. A restart, not 100 duplicates and no loss.
func TestSequenceRestartIsNotDuplicates(t *testing.T) {
	var recs []samplelog.Record
	for run := range 2 {
		for s := range uint64(100) {
			r := rx(0, s, 1253188, 28000)
			for _, t := range []*int64{&r.CycleStart, &r.Wakeup, &r.SendCall, &r.Txtime, &r.Timestamp} {
				*t += int64(run) * 60_000_000_000 // the second run, a minute later
			}
			recs = append(recs, r)
		}
	}
	res := analyze(t, Options{}, writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, recs))
	p := res.Streams[0].Packets
	if p.Received != 200 || p.Duplicates != 0 || p.Lost != 0 || p.Restarts != 1 {
		t.Errorf("%+v", p)
	}
}

// Packets that overtook the first are not a warm-up when none was asked for.
func TestReorderedAtTheStartCounts(t *testing.T) {
	res := analyze(t, Options{}, writeLog(t, samplelog.Header{Role: samplelog.RoleRecv},
		[]samplelog.Record{rx(0, 2, 1253188, 28000), rx(0, 0, 1253200, 28000), rx(0, 1, 1253300, 28000), rx(0, 3, 1253250, 28000)}))
	p := res.Streams[0].Packets
	if p.Received != 4 || p.WarmupExcluded != 0 || p.Reordered != 2 || res.Streams[0].Indicators[ScheduledTime].Count != 4 {
		t.Errorf("%+v, %d samples", p, res.Streams[0].Indicators[ScheduledTime].Count)
	}
}

// netlatency's "not taken" epoch time in tx-program is a missing value, not a time.
func TestNetlatencyNotTakenIsMissing(t *testing.T) {
	line := strings.Replace(nlExample, `"2018-04-19T05:17:34.771002318Z"`, `"1970-01-01T00:00:00.000000000Z"`, 1)
	next := strings.Replace(nlExample, `"sequence-number":612295`, `"sequence-number":612296`, 1)
	res := analyze(t, Options{}, writeFile(t, line+"\n"+next+"\n"))
	in := res.Streams[0].Indicators[RTAppLatency]
	if in.Count != 1 || in.Min != 2318 {
		t.Errorf("rt_app_latency %+v (the not-taken time must not count)", in)
	}
}

func TestSameFileTwiceIsRefused(t *testing.T) {
	s := writeLog(t, samplelog.Header{Role: samplelog.RoleSend}, []samplelog.Record{tx(0, 1000, 5000, 0)})
	r := writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, []samplelog.Record{rx(0, 0, 1253188, 28000)})
	link := s + ".link"
	if err := os.Link(s, link); err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][]string{{s, s, r}, {s, r, link}} {
		if err := New(Options{}).ReadFiles(paths, FormatAuto); err == nil || !strings.Contains(err.Error(), "are the same file") {
			t.Errorf("%v: %v", paths, err)
		}
	}
}

// Corrupt extreme times are reported and left out, never computed with.
func TestCorruptTimesAreLeftOut(t *testing.T) {
	good := []samplelog.Record{tx(0, 20000, 5000, 0), tx(1, 21000, 5000, 0), tx(2, 22000, 5000, 0)}
	bad := tx(3, 20000, 5000, 0)
	bad.CycleStart = math.MaxInt64
	bad2 := tx(4, 20000, 5000, 0)
	bad2.SendCall = math.MinInt64
	res := analyze(t, Options{}, writeLog(t, samplelog.Header{Role: samplelog.RoleSend, Send: &samplelog.SendParams{Cycle: cycle}}, append(good, bad, bad2)))
	s := res.Streams[0]
	for name, in := range s.Indicators {
		if in.Max < in.Min || (in.PkPk != nil && *in.PkPk < 0) {
			t.Errorf("%s: %+v", name, in)
		}
	}
	if s.Packets.Sent != 3 || s.Packets.CyclesSkipped != 0 || !strings.Contains(strings.Join(res.Warnings, ";"), "2 records with impossible times") {
		t.Errorf("%+v %q", s.Packets, res.Warnings)
	}
}

// A pipe is read once (it used to be opened twice: "not a tsnctl sample log"); a directory is
// called that.
func TestPipeAndDirectory(t *testing.T) {
	r := writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, []samplelog.Record{rx(0, 0, 1253188, 28000)})
	out, err := exec.Command("bash", "-c", "cat "+r+" | "+os.Args[0]+" -test.run=^TestPipeChild$ -test.count=1").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "received 1") {
		t.Errorf("%v: %s", err, out)
	}
	if err := New(Options{}).ReadFiles([]string{t.TempDir()}, FormatAuto); err == nil || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("directory: %v", err)
	}
}

// TestPipeChild reads standard input as TestPipeAndDirectory's child.
func TestPipeChild(t *testing.T) {
	if st, _ := os.Stdin.Stat(); st == nil || st.Mode()&os.ModeNamedPipe == 0 {
		return // not run as the child
	}
	a := New(Options{})
	if err := a.ReadFiles([]string{"/dev/stdin"}, FormatAuto); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("received %d\n", a.Result().Streams[0].Packets.Received)
}

// FuzzAnalysisInvariants builds logs from the fuzzer's bytes (sequence steps, timing offsets,
// record types and flags, some times extreme) so that the accounting is reached, and checks
// what must hold of any result: min <= p50 <= max, a peak-to-peak that is not negative, no more
// lost than sent, counters far below 2^63 (no unsigned underflow).
func FuzzAnalysisInvariants(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}, uint8(0))
	f.Add(bytes.Repeat([]byte{1, 0, 0, 0, 4, 9, 0xff, 0x7f}, 40), uint8(2))
	f.Add(bytes.Repeat([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 20), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, warm uint8) {
		var send, recv []samplelog.Record
		var seq uint64
		for i := 0; i+8 <= len(data) && len(send)+len(recv) < 4000; i += 8 {
			step := binary.LittleEndian.Uint16(data[i:])
			v := int64(binary.LittleEndian.Uint32(data[i+2:]))
			kind, flags := data[i+6], data[i+7]
			seq += uint64(step % 5)
			if step%97 == 0 {
				seq = uint64(step % 3) // a restart
			}
			if kind%31 == 0 {
				v = math.MaxInt64 - v // extreme
			}
			switch kind % 4 {
			case 0:
				send = append(send, tx(seq, v, v/3, flags&0x3f))
			case 1:
				recv = append(recv, rx(0, seq, v, v/2))
			case 2:
				send = append(send, samplelog.Record{Type: samplelog.TypeTxTimestamp, Seq: seq, Flags: flags & 1, Timestamp: base + int64(seq)*cycle + v})
			case 3:
				send = append(send, samplelog.Record{Type: samplelog.TypeETFDrop, Seq: seq, Flags: flags & 0x18})
			}
		}
		h := samplelog.Header{Role: samplelog.RoleSend, Send: &samplelog.SendParams{Cycle: cycle, WindowStart: 1200000, WindowEnd: 1300000}}
		a := New(Options{WarmupPackets: uint64(warm % 4)})
		if err := a.ReadFiles([]string{writeLog(t, h, send), writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, recv)}, FormatAuto); err != nil {
			t.Fatal(err)
		}
		res := a.Result()
		for _, s := range res.Streams {
			for name, in := range s.Indicators {
				if in.Count > 0 && (in.Min > in.P50 || in.P50 > in.Max || in.P99 > in.Max || in.Min > in.P99) || in.PkPk != nil && *in.PkPk < 0 {
					t.Errorf("%s: %+v", name, in)
				}
			}
			p := s.Packets
			if p.Sent > 0 && p.Lost > p.Sent {
				t.Errorf("lost %d of %d sent", p.Lost, p.Sent)
			}
			for _, c := range []uint64{p.Received, p.Lost, p.Duplicates, p.Reordered, p.CyclesSkipped, p.Premature, p.Late, p.ETFDropped} {
				if c > 1<<40 {
					t.Errorf("a counter of %d: %+v", c, p)
				}
			}
		}
		res.WriteText(&bytes.Buffer{})
	})
}

// A header declaring a cycle near the int64 limit, and cycle starts going backwards, must not
// make the skipped-cycle count wrap around (it read 18446744073709551615).
func TestCyclesSkippedDoesNotWrap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cycle  int64
		starts []int64
		want   uint64
	}{
		{"huge cycle", math.MaxInt64, []int64{1, 2, 3}, 0},
		{"huge cycle, late start", math.MaxInt64 - 1, []int64{5, math.MaxInt64}, 0},
		{"backwards", cycle, []int64{base + 10*cycle, base, base + 11*cycle, base + 2*cycle}, 0},
		{"gap then backwards", cycle, []int64{base, base + 5*cycle, base + cycle}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var txr []samplelog.Record
			for i, c := range tc.starts {
				r := tx(uint64(i), 30000, 100, 0)
				r.CycleStart = c
				txr = append(txr, r)
			}
			params := &samplelog.SendParams{WindowStart: 1200000, WindowEnd: 1300000, Cycle: tc.cycle, PerCycle: 1}
			res := analyze(t, Options{}, writeLog(t, samplelog.Header{Role: samplelog.RoleSend, Send: params}, txr))
			if got := res.Streams[0].Packets.CyclesSkipped; got != tc.want {
				t.Errorf("cycles skipped %d, want %d", got, tc.want)
			}
		})
	}
}

// netlatency's fast date path refuses the dates time.Parse refuses, and agrees with it on the rest.
func TestNetlatencyImpossibleDates(t *testing.T) {
	for _, s := range []string{
		"2023-02-31T00:00:00.000000000Z", // 31 February
		"2024-02-30T00:00:00.000000000Z", // 30 February, leap year
		"2023-02-29T00:00:00.000000000Z", // 29 February, not a leap year
		"1900-02-29T00:00:00.000000000Z", // 1900 is not a leap year
		"2023-04-31T00:00:00.000000000Z", // 31 April
		"2023-13-01T00:00:00.000000000Z", // month 13
		"2023-00-10T00:00:00.000000000Z", // month 0
		"2023-01-00T00:00:00.000000000Z", // day 0
	} {
		if _, perr := time.Parse(time.RFC3339Nano, s); perr == nil {
			t.Fatalf("time.Parse accepts %s: the test is wrong", s)
		}
		if ns, err := parseRFC3339([]byte(s)); err == nil {
			t.Errorf("%s read as %v, want an error as time.Parse gives", s, time.Unix(0, ns).UTC())
		}
	}
	for _, s := range []string{"2024-02-29T23:59:59.999999999Z", "2000-02-29T00:00:00.000000001Z", "2023-12-31T12:00:00.5Z", "2023-04-30T00:00:00.000000000Z"} {
		want, perr := time.Parse(time.RFC3339Nano, s)
		got, err := parseRFC3339([]byte(s))
		if perr != nil || err != nil || got != want.UnixNano() {
			t.Errorf("%s: got %d %v, want %d %v", s, got, err, want.UnixNano(), perr)
		}
	}
}

// Strings from a log's header are printed with their control characters made visible: a hostile
// host name cannot retitle the terminal or clear the screen.
func TestTextOutputEscapesControlCharacters(t *testing.T) {
	h := samplelog.Header{Role: samplelog.RoleSend, Host: "\x1b]0;pwned\x07host\x1b[2J", Send: &samplelog.SendParams{Cycle: cycle, PerCycle: 1}}
	res := analyze(t, Options{}, writeLog(t, h, []samplelog.Record{tx(0, 30000, 100, 0), tx(1, 30000, 100, 0)}))
	var b bytes.Buffer
	res.WriteText(&b)
	if strings.ContainsAny(b.String(), "\x1b\x07") {
		t.Errorf("raw control characters in the text output:\n%q", b.String())
	}
	if !strings.Contains(b.String(), `on \x1b]0;pwned\ahost\x1b[2J`) {
		t.Errorf("the host is not shown escaped:\n%s", b.String())
	}
}
