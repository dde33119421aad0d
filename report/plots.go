package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/analysis"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plot is one figure, rendered as PNG and SVG.
type Plot struct {
	Name    string `json:"name"`  // file name without extension
	Title   string `json:"title"` // caption
	PNG     []byte `json:"-"`
	SVG     []byte `json:"-"`
	Kind    string `json:"kind"`      // series, histogram, ccdf
	Metric  string `json:"indicator"` // the indicator shown
	Sources int    `json:"lines"`     // how many runs/streams it shows
}

const (
	plotW = 18 * vg.Centimeter
	plotH = 9 * vg.Centimeter
)

// line is one run's (or one run's stream's) data in a plot.
type line struct {
	label  string
	stream *analysis.StreamResult
	run    *Run
	color  int
}

func linesOf(runs []*Run) []line {
	var out []line
	for _, r := range runs {
		for i := range r.Result.Streams {
			s := &r.Result.Streams[i]
			label := r.Name
			if len(r.Result.Streams) > 1 {
				label = fmt.Sprintf("%s stream %d", r.Name, s.StreamID)
			}
			out = append(out, line{label, s, r, len(out)})
		}
	}
	return out
}

// pngDPI makes PNGs sharp on high-density screens and in print (18 cm ≈ 1130 px).
const pngDPI = 160

func render(p *plot.Plot, pl *Plot) error { return renderStack([]*plot.Plot{p}, plotH, pl) }

// renderLegendBelow draws p on a plotW page with its legend in rows under the axis, clear of the
// data (and of the bands' names in it); the page grows by the legend's height.
func renderLegendBelow(p *plot.Plot, pl *Plot) error {
	leg := p.Legend
	p.Legend = plot.NewLegend()
	leg.Top, leg.Left = true, true
	legH := leg.Rectangle(draw.Canvas{}).Size().Y + vg.Millimeter*3
	return renderPage(plotH+legH, pl, func(dc draw.Canvas) {
		p.Draw(draw.Crop(dc, 0, 0, legH, 0))
		leg.Draw(draw.Crop(dc, vg.Centimeter, 0, 0, -(dc.Max.Y - dc.Min.Y - legH + vg.Millimeter*2)))
	})
}

// renderStack draws plots one under the other on a plotW × h page (one plot: the whole page), as
// PNG and SVG.
func renderStack(ps []*plot.Plot, h vg.Length, pl *Plot) error {
	return renderPage(h, pl, func(dc draw.Canvas) {
		if len(ps) == 1 {
			ps[0].Draw(dc)
			return
		}
		rows := make([][]*plot.Plot, len(ps))
		for i, p := range ps {
			rows[i] = []*plot.Plot{p}
		}
		tiles := plot.Align(rows, draw.Tiles{Rows: len(ps), Cols: 1, PadY: vg.Centimeter / 2}, dc)
		for i, p := range ps {
			p.Draw(tiles[i][0])
		}
	})
}

// renderPage draws a plotW × h page with drawOn, as PNG and SVG.
func renderPage(h vg.Length, pl *Plot, drawOn func(draw.Canvas)) error {
	img := vgimg.NewWith(vgimg.UseWH(plotW, h), vgimg.UseDPI(pngDPI))
	drawOn(draw.New(img))
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&b); err != nil {
		return fmt.Errorf("plot %s: %w", pl.Name, err)
	}
	pl.PNG = b.Bytes()
	svg, err := draw.NewFormattedCanvas(plotW, h, "svg")
	if err != nil {
		return err
	}
	drawOn(draw.New(svg))
	var sb bytes.Buffer
	if _, err := svg.WriteTo(&sb); err != nil {
		return fmt.Errorf("plot %s: %w", pl.Name, err)
	}
	pl.SVG = sb.Bytes()
	return nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

func colorOf(i int) color.Color { return plotutil.DarkColors[i%len(plotutil.DarkColors)] }

// seriesPlot is the seed's figure: an indicator per packet, one plot per run.
func seriesPlot(r *Run, indicator string, idx int) (*Plot, error) {
	pl := &Plot{Name: fmt.Sprintf("series-%s-%s", fileSafe(r.Name), indicator), Kind: "series", Metric: indicator,
		Title: fmt.Sprintf("%s per packet — %s", indicator, r.Name)}
	p := newPlot(pl.Title, "packet (sequence number)", indicator+" (µs)")
	for i := range r.Result.Streams {
		s := &r.Result.Streams[i]
		ser := s.Series(indicator)
		if ser == nil || len(ser.Points) == 0 {
			continue
		}
		sc, err := dots(ser, 1, colorOf(idx+i), 1.2)
		if err != nil {
			return nil, err
		}
		p.Add(sc)
		if len(r.Result.Streams) > 1 {
			p.Legend.Add(fmt.Sprintf("stream %d", s.StreamID), sc)
		}
		if ser.PerPoint() > 1 {
			p.X.Label.Text = fmt.Sprintf("packet (sequence number; each dot pair: min and max of %d packets)", ser.PerPoint())
		}
		pl.Sources++
	}
	if pl.Sources == 0 {
		return nil, nil
	}
	return pl, render(p, pl)
}

// histPlot overlays the runs' distributions of an indicator: linear bins, log count axis.
// A title other than "" replaces the default "Histogram of INDICATOR".
func histPlot(lines []line, indicator, suffix, title string) (*Plot, error) {
	have := linesWith(lines, indicator)
	if len(have) == 0 {
		return nil, nil
	}
	pl := &Plot{Name: "hist-" + indicator, Kind: "histogram", Metric: indicator, Title: "Histogram of " + indicator}
	if suffix != "" {
		pl.Name += "-" + fileSafe(suffix)
		pl.Title += " — " + suffix
	}
	if title != "" {
		pl.Title = title
	}
	p := newPlot(pl.Title, indicator+" (µs)", "packets")
	if err := addHistograms(p, have, indicator); err != nil {
		return nil, err
	}
	pl.Sources = len(have)
	return pl, render(p, pl)
}

// linesWith are the lines that have the indicator.
func linesWith(lines []line, indicator string) []line {
	var have []line
	for _, l := range lines {
		if _, ok := l.stream.Indicators[indicator]; ok {
			have = append(have, l)
		}
	}
	return have
}

// addHistograms draws each line's distribution of the indicator (lines that have it) as a step
// line: linear bins, log count axis.
func addHistograms(p *plot.Plot, have []line, indicator string) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, l := range have {
		in := l.stream.Indicators[indicator]
		lo, hi = math.Min(lo, float64(in.Min)), math.Max(hi, float64(in.Max))
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	// At most 200 bins of a whole number of ns (fractional widths would comb the ns values).
	width := math.Max(math.Ceil((hi-lo+1)/200), 1)
	bins := int(math.Ceil((hi - lo + 1) / width))
	const floor = 0.7 // empty bins are drawn at the bottom of the log axis
	for _, l := range have {
		d, shift := l.stream.Distribution(indicator)
		counts := make([]float64, bins+1)
		d.Each(func(blo, bhi int64, c uint64) {
			v := float64(blo+(bhi-blo)/2) - shift
			k := int(math.Floor((math.Round(v) - lo) / width))
			counts[min(max(k, 0), bins)] += float64(c)
		})
		var pts plotter.XYs
		for k, c := range counts {
			pts = append(pts, plotter.XY{X: (lo + float64(k)*width) / 1e3, Y: math.Max(c, floor)})
		}
		if err := addStep(p, pts, l); err != nil {
			return err
		}
	}
	p.Y.Min = floor
	return nil
}

// addStep draws pts as a step line in the line's colour, with its legend entry.
func addStep(p *plot.Plot, pts plotter.XYs, l line) error {
	ln, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	ln.StepStyle = plotter.PostStep
	ln.Color = colorOf(l.color)
	ln.Width = vg.Points(1.2)
	p.Add(ln)
	p.Legend.Add(l.label, ln)
	return nil
}

// ccdfPlot overlays P(value > x): the tail an SLA on a high percentile is about.
func ccdfPlot(lines []line, indicator string) (*Plot, error) {
	pl := &Plot{Name: "ccdf-" + indicator, Kind: "ccdf", Metric: indicator, Title: "CCDF of " + indicator + ": P(value > x)"}
	p := newPlot(pl.Title, indicator+" (µs)", "fraction of packets above")
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	ymin := 1.0
	for _, l := range lines {
		d, shift := l.stream.Distribution(indicator)
		if d == nil || d.N() == 0 {
			continue
		}
		n := float64(d.N())
		var cum float64
		var pts plotter.XYs
		d.Each(func(blo, bhi int64, c uint64) {
			cum += float64(c)
			if above := (n - cum) / n; above > 0 {
				pts = append(pts, plotter.XY{X: (float64(bhi) - shift) / 1e3, Y: above})
				ymin = math.Min(ymin, above)
			}
		})
		if len(pts) == 0 { // one value: nothing is above it
			continue
		}
		if err := addStep(p, pts, l); err != nil {
			return nil, err
		}
		pl.Sources++
	}
	if pl.Sources == 0 {
		return nil, nil
	}
	p.Y.Min, p.Y.Max = ymin/2, 1
	return pl, render(p, pl)
}

// Plots makes every figure of the report: first the headline, the histogram of every run's
// scheduled time overlaid; per run the per-packet series of scheduled time and RT application
// latency (the seed's figures); across runs, histogram and CCDF of each indicator.
func Plots(runs []*Run) ([]*Plot, error) {
	var out []*Plot
	add := func(p *Plot, err error) error {
		if p != nil {
			out = append(out, p)
		}
		return err
	}
	lines := linesOf(runs)
	// The headline first: the runs' scheduled times overlaid, as the seed's figures compare case 1
	// with cases 2 and 3 -- the runs of the first run's cycle (a run of another cycle would stretch
	// the axis and squash them); every run is in the histogram among the details.
	var same []line
	for _, l := range lines {
		if cycleOf(l.run) == cycleOf(runs[0]) {
			same = append(same, l)
		}
	}
	title := "Scheduled time: when each packet reached the wire in its cycle"
	if c := cycleOf(runs[0]); c > 0 {
		title += fmt.Sprintf(" (runs with a %v cycle)", time.Duration(c))
	}
	// The headline is a timeline of the cycle, as tsnctl plan --svg draws a schedule (the lab's
	// runs carry no gate list: their packets alone).
	head := &Timeline{Name: HeadlineName, Title: title, packets: same, indicator: analysis.ScheduledTime,
		Cycle: time.Duration(cycleOf(runs[0])), Streams: windowLanes(same)}
	if err := add(timelinePlot(head, "headline")); err != nil {
		return nil, err
	}
	idx := 0
	for _, r := range runs {
		if err := add(syncPlot(r)); err != nil {
			return nil, err
		}
		for _, ind := range []string{analysis.ScheduledTime, analysis.RTAppLatency} {
			if err := add(seriesPlot(r, ind, idx)); err != nil {
				return nil, err
			}
		}
		// With several runs the overlaid histogram spans all of them; each run's own jitter
		// histogram keeps its detail (a 155 ns spread next to a 1.2 ms one).
		if len(runs) > 1 {
			var own []line
			for _, l := range lines {
				if l.run == r {
					own = append(own, l)
				}
			}
			if err := add(histPlot(own, analysis.Jitter, r.Name, "")); err != nil {
				return nil, err
			}
		}
		idx += len(r.Result.Streams)
	}
	for _, ind := range analysis.IndicatorNames {
		if err := add(histPlot(lines, ind, "", "")); err != nil {
			return nil, err
		}
		if ind == analysis.Jitter {
			continue // the CCDF of jitter is that of scheduled_time, shifted
		}
		if err := add(ccdfPlot(lines, ind)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// windowLanes are the transmit windows of the lines' runs (txtime mode: the send log's header
// records it) as lanes behind the headline's packets: one per distinct window, with its txtime,
// named after the runs that share it. A run of planned streams has a window per stream (report -f
// shows them): its header's, the first stream's, is left out.
func windowLanes(lines []line) []Lane {
	type key struct{ start, end, txtime int64 }
	var order []key
	names := map[key][]string{}
	seen := map[*Run]bool{}
	for _, l := range lines {
		if seen[l.run] {
			continue
		}
		seen[l.run] = true
		for _, f := range l.run.Result.Files {
			if f.Header == nil || f.Header.Send == nil || f.Header.Send.Plan != "" {
				continue
			}
			start, end, ok := f.Header.Send.Window()
			if !ok {
				continue
			}
			k := key{start, end, start + f.Header.Send.Offset}
			if _, dup := names[k]; !dup {
				order = append(order, k)
			}
			if !slices.Contains(names[k], l.run.Name) {
				names[k] = append(names[k], l.run.Name)
			}
		}
	}
	var lanes []Lane
	for _, k := range order {
		lanes = append(lanes, Lane{Name: "window of " + strings.Join(names[k], ", "),
			Windows: []Span{{time.Duration(k.start), time.Duration(k.end)}}, Txtimes: []time.Duration{time.Duration(k.txtime)}})
	}
	return lanes
}

// HeadlineName is the file name (without extension) of the report's headline plot.
const HeadlineName = "headline-scheduled_time"

// cycleOf is a run's cycle as its sender's log header records it (0: unknown).
func cycleOf(r *Run) int64 {
	for _, f := range r.Result.Files {
		if f.Header != nil && f.Header.Send != nil {
			return f.Header.Send.Cycle
		}
	}
	return 0
}

// fileSafe turns a run name into a file name part: lower case, other characters runs → "-".
func fileSafe(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(c)
			dash = false
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "run"
	}
	return b.String()
}

// dots draws a series as dots: x = the point's Seq × xScale, y = its min and max in µs (one dot
// when they are equal).
func dots(ser *analysis.Series, xScale float64, c color.Color, radius float64) (*plotter.Scatter, error) {
	var pts plotter.XYs
	for _, pt := range ser.Points {
		x := float64(pt.Seq) * xScale
		pts = append(pts, plotter.XY{X: x, Y: float64(pt.Min) / 1e3})
		if pt.Max != pt.Min {
			pts = append(pts, plotter.XY{X: x, Y: float64(pt.Max) / 1e3})
		}
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(radius), Shape: draw.CircleGlyph{}}
	return sc, nil
}

// syncPlot is the run's master offset over time, LOCKED samples apart from the others.
func syncPlot(r *Run) (*Plot, error) {
	sy := r.Result.Sync
	if sy == nil {
		return nil, nil
	}
	pl := &Plot{Name: "sync-" + fileSafe(r.Name), Kind: "sync", Metric: "offset", Title: "Time sync: master offset — " + r.Name}
	p := newPlot(pl.Title, "seconds since "+sy.From.UTC().Format("15:04:05"), "offset from master (µs)")
	locked, other := sy.OffsetSeries()
	for _, s := range []struct {
		ser   *analysis.Series
		label string
		color color.Color
	}{{locked, "LOCKED", color.RGBA{R: 0x1a, G: 0x7f, B: 0x37, A: 255}}, {other, "not LOCKED", color.RGBA{R: 0xd0, G: 0x5a, B: 0x00, A: 255}}} {
		if len(s.ser.Points) == 0 {
			continue
		}
		sc, err := dots(s.ser, 1e-3, s.color, 1.5) // x: ms → s
		if err != nil {
			return nil, err
		}
		p.Add(sc)
		p.Legend.Add(s.label, sc)
		pl.Sources++
	}
	if pl.Sources == 0 {
		return nil, nil
	}
	return pl, render(p, pl)
}
