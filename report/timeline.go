package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Timeline is one cycle, x the time in it (µs). It is the report's headline: the runs' packets,
// each at the time it reached the wire in its cycle (the histogram of scheduled_time). It is also
// a schedule as engineers draw a gate control list: a row per traffic class, filled where its
// gate is open, and a row per stream with each of its windows in the cycle, its txtime marks and
// the guard bands before its windows (tsnctl plan --svg). With packets, the streams' windows, guard
// bands and txtimes are drawn as bands behind them (the gates are not: the count axis has no rows).
type Timeline struct {
	Name, Title string
	Cycle       time.Duration // the x axis' end; 0: the data's range
	Gates       []Gate        // the gate list from the cycle's start
	Classes     []string      // a row per traffic class, its name; class i's gate is bit i of Gate.Open
	Streams     []Lane
	packets     []line // the headline's runs
	indicator   string // of the packets: the indicator their histograms show
}

// Gate is one entry of a gate list: the gates open (bit i: traffic class i) for Interval.
type Gate struct {
	Open     uint32
	Interval time.Duration
}

// Lane is one stream's row: each occurrence in the cycle of its window, its txtime and its guard
// band. A span may pass the cycle's end: it is drawn in two pieces, at the end and at the start.
type Lane struct {
	Name    string
	Windows []Span
	Txtimes []time.Duration
	Guards  []Span
}

// Span is [Start, End) in the cycle.
type Span struct{ Start, End time.Duration }

// Colours of the rows.
var (
	gateColor   = color.NRGBA{R: 0x3b, G: 0x6e, B: 0xa8, A: 0xff} // a scheduled class's gate open
	beGateColor = color.NRGBA{R: 0xa0, G: 0xa0, B: 0xa0, A: 0xff} // best effort's (class 0) gate open
	guardColor  = color.NRGBA{R: 0xe0, G: 0x8a, B: 0x2c, A: 0x80}
	txtimeColor = color.NRGBA{A: 0xff}
	bandColor   = color.NRGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0x40} // a window behind packets
)

// windowColor is the fill of stream i's windows: its line colour, translucent.
func windowColor(i int) color.Color {
	r, g, b, _ := colorOf(i).RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0xb0}
}

// rows is how many rows the timeline draws without packets.
func (tl *Timeline) rows() int { return len(tl.Classes) + len(tl.Streams) }

// plot draws the timeline; sources is how many runs (with packets) or rows it shows, nil when
// there is nothing to draw.
func (tl *Timeline) plot() (p *plot.Plot, sources int, err error) {
	have := linesWith(tl.packets, tl.indicator)
	switch {
	case len(have) > 0:
		p = newPlot(tl.Title, tl.indicator+" (µs)", "packets")
		if err := addHistograms(p, have, tl.indicator); err != nil {
			return nil, 0, err
		}
		for _, l := range tl.Streams { // the bands behind the packets stay in view
			for _, w := range l.Windows {
				p.X.Min, p.X.Max = math.Min(p.X.Min, us(w.Start)), math.Max(p.X.Max, us(w.End))
			}
		}
		sources = len(have)
	case tl.rows() > 0:
		p = newPlot(tl.Title, "time in the cycle (µs)", "")
		n := float64(tl.rows())
		p.Y.Min, p.Y.Max = 0, n
		var ticks plot.ConstantTicks
		for i, name := range tl.rowNames() {
			ticks = append(ticks, plot.Tick{Value: n - float64(i) - 0.5, Label: name})
		}
		p.Y.Tick.Marker = ticks
		p.Legend.Top = false
		sources = tl.rows()
	default:
		return nil, 0, nil
	}
	if tl.Cycle > 0 { // the whole cycle, and the packets past its end if any
		p.X.Min, p.X.Max = 0, math.Max(us(tl.Cycle), p.X.Max)
	}
	p.X.Tick.Marker = roundTicks{}
	if len(tl.Gates) > 0 || len(tl.Streams) > 0 {
		p.Add(rowsPlotter{tl: tl, bands: len(have) > 0})
	}
	return p, sources, nil
}

func (tl *Timeline) rowNames() []string {
	names := make([]string, 0, tl.rows())
	names = append(names, tl.Classes...)
	for _, s := range tl.Streams {
		names = append(names, s.Name)
	}
	return names
}

// timelinePlot renders the timeline as a Plot (nil: nothing to draw). With packets the legend (the
// runs) stands under the plot, clear of the data and the bands' names.
func timelinePlot(tl *Timeline, kind string) (*Plot, error) {
	p, n, err := tl.plot()
	if p == nil || err != nil {
		return nil, err
	}
	pl := &Plot{Name: tl.Name, Title: tl.Title, Kind: kind, Metric: tl.indicator, Sources: n}
	if len(tl.packets) > 0 {
		return pl, renderLegendBelow(p, pl)
	}
	return pl, render(p, pl)
}

// roundTicks marks an axis at round values: labelled every 1, 2 or 5 × 10ⁿ (5 to 10 labels),
// with a mark between, labels to the step's decimals.
type roundTicks struct{}

func (roundTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return nil
	}
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(step*m) <= 10 {
			step *= m
			break
		}
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo / (step / 2)); k*step/2 <= hi; k++ {
		v := k * step / 2
		t := plot.Tick{Value: v}
		if math.Mod(k, 2) == 0 { // to the step's decimals: 0.3, not 0.30000000000000004
			t.Label = strconv.FormatFloat(v, 'f', max(0, int(-math.Floor(math.Log10(step)))), 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

func us(d time.Duration) float64 { return float64(d) / 1e3 }

// rowsPlotter draws the gate and stream rows: in rows (top: the classes, then the streams), or,
// with bands, the streams' spans over the plot's whole height.
type rowsPlotter struct {
	tl    *Timeline
	bands bool
}

func (r rowsPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	n := r.tl.rows()
	// row i (from the top) spans [lo, hi) of the canvas; its content leaves a margin.
	rowY := func(i int) (vg.Length, vg.Length) {
		if r.bands {
			return c.Min.Y, c.Max.Y
		}
		return trY(float64(n-i-1) + 0.15), trY(float64(n-i) - 0.15)
	}
	cycle := r.tl.Cycle
	// pieces cuts a span at the cycle's ends.
	pieces := func(s Span) []Span {
		if cycle <= 0 {
			return []Span{s}
		}
		var out []Span
		for _, d := range []time.Duration{-cycle, 0, cycle} {
			if a, b := max(s.Start+d, 0), min(s.End+d, cycle); a < b {
				out = append(out, Span{a, b})
			}
		}
		return out
	}
	fill := func(s Span, y0, y1 vg.Length, col color.Color) {
		for _, q := range pieces(s) {
			x0, x1 := trX(us(q.Start)), trX(us(q.End))
			c.FillPolygon(col, c.ClipPolygonXY([]vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}))
		}
	}
	if !r.bands {
		for class := range r.tl.Classes {
			y0, y1 := rowY(class)
			col := color.Color(gateColor)
			if class == 0 {
				col = beGateColor
			}
			at := time.Duration(0)
			for _, g := range r.tl.Gates {
				if g.Open&(1<<class) != 0 {
					fill(Span{at, at + g.Interval}, y0, y1, col)
				}
				at += g.Interval
			}
		}
	}
	for i, s := range r.tl.Streams {
		y0, y1 := rowY(len(r.tl.Classes) + i)
		for _, g := range s.Guards {
			fill(g, y0, y1, guardColor)
		}
		for _, w := range s.Windows {
			col := windowColor(i)
			if r.bands { // behind the runs' lines: not one of their colours
				col = bandColor
			}
			fill(w, y0, y1, col)
		}
		line := draw.LineStyle{Color: txtimeColor, Width: vg.Points(1)}
		if r.bands {
			line = draw.LineStyle{Color: color.Gray{Y: 0x60}, Width: vg.Points(0.5), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
		}
		for _, t := range s.Txtimes {
			if cycle > 0 {
				t = (t%cycle + cycle) % cycle
			}
			x := trX(us(t))
			c.StrokeLines(line, c.ClipLinesXY([]vg.Point{{X: x, Y: y0}, {X: x, Y: y1}})...)
		}
		if r.bands && len(s.Windows) > 0 { // no row to name it: its name at its first window
			sty := draw.TextStyle{Color: color.Black, Font: p.Y.Tick.Label.Font, Handler: p.Y.Tick.Label.Handler}
			sty.Font.Size = vg.Points(8)
			y := c.Max.Y - vg.Points(10*float64(i+1))
			x := trX(us(s.Windows[0].Start))
			if x > (c.Min.X+c.Max.X)/2 { // in the right half: ending at the window's end, leftwards
				x = trX(us(s.Windows[0].End))
				sty.XAlign = draw.XRight
			}
			c.FillText(sty, vg.Point{X: x, Y: y}, s.Name)
		}
	}
}

// stackHeight is the page height for timelines drawn one under the other: their rows, titles
// and axes.
func stackHeight(tls []*Timeline) vg.Length {
	var h vg.Length
	for _, tl := range tls {
		h += 3*vg.Centimeter + vg.Length(tl.rows())*vg.Centimeter*3/4
	}
	return h + vg.Length(len(tls)-1)*vg.Centimeter/2
}

// TimelineFigure draws the timelines one under the other (the interfaces of a plan) on one page.
func TimelineFigure(name string, tls []*Timeline) (*Plot, error) {
	var ps []*plot.Plot
	pl := &Plot{Name: name, Kind: "timeline"}
	for _, tl := range tls {
		p, n, err := tl.plot()
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, fmt.Errorf("timeline %s: nothing to draw", tl.Name)
		}
		ps = append(ps, p)
		pl.Sources += n
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("timeline %s: nothing to draw", name)
	}
	pl.Title = tls[0].Title
	return pl, renderStack(ps, stackHeight(tls), pl)
}
