package report

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/analysis"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/plan"
)

const planStreams = `interfaces:
  - name: eth1
    channels: 4
    plan: {etf-delta: 50us, best-effort: 50}
streams:
  - {name: control, interface: eth1, dest: 10.0.0.2:7788, vlan: 3, pcp: 6, period: 2ms, size: 64, offset: 1200us, max-latency: 100us}
  - {name: fast, interface: eth1, dest: 10.0.0.3:7788, vlan: 3, pcp: 5, period: 500us, size: 256, offset: 100us, max-latency: 200us}
`

func planned(t *testing.T, text string) (*configs.Config, *plan.Result) {
	t.Helper()
	c, err := configs.Parse("s.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	exp, res, err := plan.Expand(c)
	if err != nil {
		t.Fatal(err)
	}
	return exp, res
}

// fills counts the SVG's filled shapes of a colour (written as vgsvg writes it).
func fills(svg []byte, c color.Color) int {
	r, g, b, a := c.RGBA()
	k := 255 / float64(a)
	return bytes.Count(svg, fmt.Appendf(nil, `style="fill:#%02X%02X%02X`, int(float64(r)*k), int(float64(g)*k), int(float64(b)*k)))
}

// A plan's timeline draws its gate list (a row per class, a rectangle per entry that opens the
// gate) and each stream's windows, every occurrence in the cycle, with a guard band before each
// run of windows; the streams are named, once each.
func TestPlanTimeline(t *testing.T) {
	exp, res := planned(t, planStreams)
	tls := PlanTimelines(exp, res)
	if len(tls) != 1 {
		t.Fatalf("%d timelines, want 1 (eth1)", len(tls))
	}
	tl := tls[0]
	if tl.Cycle != 2*time.Millisecond || len(tl.Streams) != 2 || tl.Streams[0].Name != "control" || tl.Streams[1].Name != "fast" ||
		strings.Join(tl.Classes, ",") != "TC0 gate (best effort),TC1 gate" {
		t.Fatalf("timeline: cycle %v, classes %q, %d streams", tl.Cycle, tl.Classes, len(tl.Streams))
	}
	control, fast := tl.Streams[0], tl.Streams[1]
	// control: one window in the 2 ms cycle, txtime 1.2 ms; fast: one each 500 µs, txtime at 100 µs of each.
	if len(control.Windows) != 1 || control.Windows[0].Start != 1150*time.Microsecond || control.Txtimes[0] != 1200*time.Microsecond {
		t.Errorf("control: %+v", control)
	}
	if len(fast.Windows) != 4 || fast.Txtimes[3] != 1600*time.Microsecond || fast.Windows[3].Start != 1550*time.Microsecond {
		t.Errorf("fast: %+v", fast)
	}
	// The windows are far apart: each starts a run, after its guard band, while the streams' gate is open.
	stretches := openSpans(tl.Gates, 1, tl.Cycle)
	guard := res.Rows[0].Guard
	for _, l := range tl.Streams {
		if len(l.Guards) != len(l.Windows) {
			t.Errorf("%s: %d guard bands for %d windows", l.Name, len(l.Guards), len(l.Windows))
		}
		for i, g := range l.Guards {
			if g.End != l.Windows[i].Start || g.End-g.Start != guard {
				t.Errorf("%s: guard band %+v before window %+v (guard %v)", l.Name, g, l.Windows[i], guard)
			}
		}
	}
	if len(stretches) != 5 {
		t.Errorf("the streams' gate opens %d times, want 5: %+v", len(stretches), tl.Gates)
	}

	fig, err := PlanFigure(exp, res)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG
	for _, s := range []string{">control</text>", ">fast</text>", ">TC1 gate</text>", ">Schedule of eth1: one 2ms cycle</text>"} {
		if n := bytes.Count(svg, []byte(s)); n != 1 {
			t.Errorf("the SVG has %d %q, want 1", n, s)
		}
	}
	be, sched := 0, 0
	for _, g := range tl.Gates {
		if g.Open&1 != 0 {
			be++
		}
		if g.Open&2 != 0 {
			sched++
		}
	}
	for _, c := range []struct {
		what string
		col  color.Color
		want int
	}{{"control's windows", windowColor(0), 1}, {"fast's windows", windowColor(1), 4}, {"guard bands", guardColor, 5},
		{"TC1 gate open", gateColor, sched}, {"TC0 gate open", beGateColor, be}} {
		if n := fills(svg, c.col); n != c.want {
			t.Errorf("%s: %d rectangles, want %d", c.what, n, c.want)
		}
	}
	if sched != 5 || be != 6 {
		t.Errorf("gate list: TC0 open in %d entries, TC1 in %d", be, sched)
	}
	if img, err := png.Decode(bytes.NewReader(fig.PNG)); err != nil || img.Bounds().Dx() < 1000 {
		t.Errorf("PNG: %v", err)
	}
}

// A window (and its guard band) that passes the cycle's end is drawn at the end and at the start.
func TestPlanTimelineWraps(t *testing.T) {
	exp, res := planned(t, strings.Replace(planStreams, "offset: 100us, max-latency: 200us", "offset: 20us, max-latency: 30us", 1))
	tl := PlanTimelines(exp, res)[0]
	fast := tl.Streams[1]
	if w := fast.Windows[0]; w.Start != 1970*time.Microsecond || w.End <= 2*time.Millisecond || fast.Txtimes[0] != 20*time.Microsecond {
		t.Fatalf("fast's first window %+v, txtime %v: want it from 1970µs past the cycle's end", w, fast.Txtimes[0])
	}
	fig, err := PlanFigure(exp, res)
	if err != nil {
		t.Fatal(err)
	}
	if n := fills(fig.SVG, windowColor(1)); n != 5 {
		t.Errorf("fast's 4 windows, one across the cycle's end: %d rectangles, want 5", n)
	}
}

// Every planned interface gets its timeline, one under the other; a configuration without streams
// has none to draw.
func TestPlanFigureInterfaces(t *testing.T) {
	two := strings.Replace(planStreams, "streams:", `  - name: eth2
    channels: 2
    plan: {etf-delta: 100us}
streams:
  - {name: other, interface: eth2, dest: 10.0.0.4:7788, vlan: 4, pcp: 4, period: 1ms, size: 100, offset: 0us, max-latency: 500us}`, 1)
	fig, err := PlanFigure(planned(t, two))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{">Schedule of eth1: one 2ms cycle</text>", ">Schedule of eth2: one 1ms cycle</text>", ">other</text>"} {
		if !bytes.Contains(fig.SVG, []byte(s)) {
			t.Errorf("the SVG has no %q", s)
		}
	}
	if fig.Name != "plan-eth1-eth2" || fig.Sources != 4+3 {
		t.Errorf("figure %s of %d rows", fig.Name, fig.Sources)
	}
	c, _ := configs.Parse("s.yaml", []byte("interfaces:\n  - name: eth1\n"))
	exp, res, _ := plan.Expand(c)
	if _, err := PlanFigure(exp, res); err == nil || !strings.Contains(err.Error(), "no streams") {
		t.Errorf("no streams: %v", err)
	}
}

// The lab report's headline is a timeline without a gate list: the runs' scheduled-time
// histograms over their whole cycle (0 to 2000 µs), the runs' window (their send logs' headers)
// drawn behind them in its own colour and named, the legend under the plot; given a stream's
// window, it draws that too.
func TestHeadlineIsATimeline(t *testing.T) {
	runs := seedCases(t, t.TempDir(), [2]string{"case 1", "case 2"}, 500, analysis.Options{})
	plots, err := Plots(runs)
	if err != nil {
		t.Fatal(err)
	}
	head := plots[0]
	if head.Name != HeadlineName || head.Kind != "headline" || head.Sources != 2 {
		t.Errorf("headline %s (%s, %d runs)", head.Name, head.Kind, head.Sources)
	}
	for _, want := range []string{">0</text>", ">2000</text>", ">window of case 2</text>", ">case 1</text>", ">case 2</text>"} {
		if !bytes.Contains(head.SVG, []byte(want)) {
			t.Errorf("the headline lacks %s", want)
		}
	}
	if fills(head.SVG, bandColor) != 1 {
		t.Errorf("the headline draws %d windows, want case 2's", fills(head.SVG, bandColor))
	}
	tl := &Timeline{Name: "h", Title: "with the window", packets: linesOf(runs), indicator: analysis.ScheduledTime,
		Streams: []Lane{{Name: "seed", Windows: []Span{{1200 * time.Microsecond, 1300 * time.Microsecond}}, Txtimes: []time.Duration{1250 * time.Microsecond}}}}
	p, err := timelinePlot(tl, "headline")
	if err != nil {
		t.Fatal(err)
	}
	if fills(p.SVG, bandColor) != 1 || !bytes.Contains(p.SVG, []byte(">seed</text>")) || p.Sources != 2 {
		t.Errorf("the window is not drawn behind the packets (%d runs)", p.Sources)
	}
}

// The timelines' axis is marked at round values: labels every 1, 2 or 5 × 10ⁿ, 5 to 10 of them,
// to the step's decimals, a mark between.
func TestRoundTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 2000, []string{"0", "200", "400", "600", "800", "1000", "1200", "1400", "1600", "1800", "2000"}},
		{1239.1, 1248.04, []string{"1240", "1241", "1242", "1243", "1244", "1245", "1246", "1247", "1248"}},
		{0, 0.5, []string{"0.0", "0.1", "0.2", "0.3", "0.4", "0.5"}},
		{28, 1544, []string{"200", "400", "600", "800", "1000", "1200", "1400"}},
	} {
		var got []string
		for _, tk := range (roundTicks{}).Ticks(c.lo, c.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("[%v, %v]: labels %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
}
