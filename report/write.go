package report

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/analysis"
)

// Report is what report.json holds.
type Report struct {
	Title     string    `json:"title"`
	Generated time.Time `json:"generated"`
	Version   string    `json:"tsnctl_version,omitempty"`
	Runs      []*Run    `json:"runs"`
	Plots     []*Plot   `json:"plots"`
	SLAOK     *bool     `json:"sla_ok,omitempty"`
	// Notes are the reader's notes on the runs (report --note), shown under the summary.
	Notes []string `json:"notes,omitempty"`
	// Schedule is the plan's figure (tsnctl report -f: PlanFigure), shown with the planned
	// streams' table; nil without a plan.
	Schedule *Plot `json:"schedule,omitempty"`
}

// Planned is the planned streams' table (tsnctl report -f): one row per planned stream of each
// run that carries some, its cells analyze -f's (analysis.PlanColumns), the row named after the run.
func Planned(runs []*Run) Table {
	t := Table{Columns: analysis.PlanColumns}
	for _, r := range runs {
		for _, p := range r.Result.Plan {
			t.Rows = append(t.Rows, Row{Name: r.Name, Cells: p.Cells()})
		}
	}
	return t
}

// PlanOK reports whether every planned stream of every run held its window and deadline (runs
// with no planned stream in their logs are not judged).
func PlanOK(runs []*Run) bool {
	for _, r := range runs {
		if len(r.Result.Plan) > 0 && !r.Result.PlanOK() {
			return false
		}
	}
	return true
}

// Table is the comparison: one row per figure, one column per run (and stream).
type Table struct {
	Columns []string
	Rows    []Row
}

// Row is one line of the comparison table; a Section row only has a title.
type Row struct {
	Name    string
	Section bool
	Cells   []string
}

// Compare builds the comparison table of the runs.
func Compare(runs []*Run) Table {
	lines := linesOf(runs)
	t := Table{}
	for _, l := range lines {
		t.Columns = append(t.Columns, l.label)
	}
	row := func(name string, cell func(s *analysis.StreamResult) string) {
		r := Row{Name: name}
		for _, l := range lines {
			r.Cells = append(r.Cells, cell(l.stream))
		}
		t.Rows = append(t.Rows, r)
	}
	section := func(name string) { t.Rows = append(t.Rows, Row{Name: name, Section: true}) }
	section("packets")
	for _, c := range []struct {
		name string
		get  func(p analysis.Packets) uint64
	}{
		{"sent", func(p analysis.Packets) uint64 { return p.Sent }},
		{"received", func(p analysis.Packets) uint64 { return p.Received }},
		{"lost", func(p analysis.Packets) uint64 { return p.Lost }},
		{"duplicates", func(p analysis.Packets) uint64 { return p.Duplicates }},
		{"reordered", func(p analysis.Packets) uint64 { return p.Reordered }},
		{"ETF dropped", func(p analysis.Packets) uint64 { return p.ETFDropped }},
		{"outside window (planned)", func(p analysis.Packets) uint64 { return p.OutsideWindow }},
		{"premature", func(p analysis.Packets) uint64 { return p.Premature }},
		{"late", func(p analysis.Packets) uint64 { return p.Late }},
		{"not locked", func(p analysis.Packets) uint64 { return p.NotLocked }},
		{"cycles skipped (overrun or paused)", func(p analysis.Packets) uint64 { return p.CyclesSkipped }},
		{"warm-up left out", func(p analysis.Packets) uint64 { return p.WarmupExcluded }},
	} {
		row(c.name, func(s *analysis.StreamResult) string { return fmt.Sprint(c.get(s.Packets)) })
	}
	haveSync := false
	for _, l := range lines {
		haveSync = haveSync || l.run.Result.Sync != nil
	}
	if haveSync {
		section("time sync (tsnctl ptp run --log)")
		syncRow := func(name string, get func(sy *analysis.SyncResult) string) {
			r := Row{Name: name}
			for _, l := range lines {
				if sy := l.run.Result.Sync; sy != nil {
					r.Cells = append(r.Cells, get(sy))
				} else {
					r.Cells = append(r.Cells, "–")
				}
			}
			t.Rows = append(t.Rows, r)
		}
		syncRow("LOCKED", func(sy *analysis.SyncResult) string { return fmt.Sprintf("%.1f %%", 100*sy.LockedFraction) })
		syncRow("state changes", func(sy *analysis.SyncResult) string { return fmt.Sprint(len(sy.Changes) - 1) })
		locked := func(get func(in *analysis.Indicator) int64) func(sy *analysis.SyncResult) string {
			return func(sy *analysis.SyncResult) string {
				if sy.OffsetLocked == nil {
					return "–"
				}
				return analysis.Micros(float64(get(sy.OffsetLocked)))
			}
		}
		syncRow("offset while LOCKED, min (µs)", locked(func(in *analysis.Indicator) int64 { return in.Min }))
		syncRow("offset while LOCKED, p50 (µs)", locked(func(in *analysis.Indicator) int64 { return in.P50 }))
		syncRow("offset while LOCKED, p99 (µs)", locked(func(in *analysis.Indicator) int64 { return in.P99 }))
		syncRow("offset while LOCKED, max (µs)", locked(func(in *analysis.Indicator) int64 { return in.Max }))
		syncRow("path delay p50 (µs)", func(sy *analysis.SyncResult) string {
			if sy.PathDelay == nil {
				return "–"
			}
			return analysis.Micros(float64(sy.PathDelay.P50))
		})
		syncRow("ptp4l restarts", func(sy *analysis.SyncResult) string { return fmt.Sprint(sy.Restarts["ptp4l"]) })
	}
	for _, ind := range analysis.IndicatorNames {
		have := false
		for _, l := range lines {
			_, ok := l.stream.Indicators[ind]
			have = have || ok
		}
		if !have {
			continue
		}
		section(ind + " (µs)")
		stat := func(name string, get func(in analysis.Indicator) float64) {
			row(name, func(s *analysis.StreamResult) string {
				in, ok := s.Indicators[ind]
				if !ok {
					return "–"
				}
				return analysis.Micros(get(in))
			})
		}
		stat("min", func(in analysis.Indicator) float64 { return float64(in.Min) })
		stat("p50", func(in analysis.Indicator) float64 { return float64(in.P50) })
		stat("p90", func(in analysis.Indicator) float64 { return float64(in.P90) })
		stat("p99", func(in analysis.Indicator) float64 { return float64(in.P99) })
		stat("p99.9", func(in analysis.Indicator) float64 { return float64(in.P999) })
		stat("p99.99", func(in analysis.Indicator) float64 { return float64(in.P9999) })
		stat("max", func(in analysis.Indicator) float64 { return float64(in.Max) })
		stat("mean", func(in analysis.Indicator) float64 { return in.Mean })
		stat("stddev", func(in analysis.Indicator) float64 { return in.Stddev })
		if ind == analysis.Jitter {
			stat("pk-pk", func(in analysis.Indicator) float64 { return float64(*in.PkPk) })
		}
		row("samples", func(s *analysis.StreamResult) string {
			in, ok := s.Indicators[ind]
			if !ok {
				return "–"
			}
			return fmt.Sprintf("%d (%s)", in.Count, in.Percentiles)
		})
	}
	return t
}

// Summary is the report's answer, first: one row per run (and stream), the figures an engineer
// judges a run by in columns — where the packets reached the wire in their cycle and how widely
// that spread, what was dropped, lost or skipped, the SLA verdicts, the share of time sync LOCKED,
// and the run's labels (its time base in the lab).
func Summary(runs []*Run) Table {
	t := Table{Columns: []string{"scheduled time p50 (µs)", "spread min → p99 (µs)", "max − min (µs)", "ETF drops", "lost",
		"cycles skipped", "SLA", "time sync LOCKED", "labels"}}
	for _, l := range linesOf(runs) {
		r := Row{Name: l.label}
		if in, ok := l.stream.Indicators[analysis.ScheduledTime]; ok && in.Count > 0 {
			r.Cells = append(r.Cells, analysis.Micros(float64(in.P50)), analysis.Micros(float64(in.P99-in.Min)), analysis.Micros(float64(in.Max-in.Min)))
		} else {
			r.Cells = append(r.Cells, "–", "–", "–")
		}
		p := l.stream.Packets
		r.Cells = append(r.Cells, fmt.Sprint(p.ETFDropped), fmt.Sprint(p.Lost), fmt.Sprint(p.CyclesSkipped))
		ok, bad := 0, 0
		for _, v := range l.run.Result.SLA {
			if v.StreamID != l.stream.StreamID {
				continue
			}
			if v.OK {
				ok++
			} else {
				bad++
			}
		}
		switch {
		case ok+bad == 0:
			r.Cells = append(r.Cells, "–")
		case bad == 0:
			r.Cells = append(r.Cells, fmt.Sprintf("%d ok", ok))
		default:
			r.Cells = append(r.Cells, fmt.Sprintf("%d violated, %d ok", bad, ok))
		}
		if sy := l.run.Result.Sync; sy != nil {
			r.Cells = append(r.Cells, fmt.Sprintf("%.1f %%", 100*sy.LockedFraction))
		} else {
			r.Cells = append(r.Cells, "–")
		}
		var labels []string
		for _, f := range l.run.Setup {
			if k, ok := strings.CutPrefix(f.Name, "label "); ok {
				labels = append(labels, k+": "+f.Value)
			}
		}
		r.Cells = append(r.Cells, strings.Join(labels, "; "))
		t.Rows = append(t.Rows, r)
	}
	return t
}

// Setups is the setup table: one row per field any run has, one column per run.
func Setups(runs []*Run) Table {
	t := Table{}
	index := map[string]int{}
	for i, r := range runs {
		t.Columns = append(t.Columns, r.Name)
		for _, f := range r.Setup {
			k, ok := index[f.Name]
			if !ok {
				k = len(t.Rows)
				index[f.Name] = k
				t.Rows = append(t.Rows, Row{Name: f.Name, Cells: make([]string, len(runs))})
			}
			t.Rows[k].Cells[i] = f.Value
		}
	}
	return t
}

//go:embed report.html.tmpl
var htmlTemplate string

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"dataURI": func(b []byte, mime string) template.URL {
		return template.URL("data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b))
	},
}).Parse(htmlTemplate))

// Write writes the report of runs into dir and returns the paths written. It writes into a
// temporary directory beside dir and renames it to dir when every file is complete, so an
// interrupted report never leaves dir half-written; a dir that exists and is not empty is first
// moved aside (its new name is in Moved).
func Write(dir string, rep *Report) (Written, error) {
	if len(rep.Runs) == 0 {
		return Written{}, fmt.Errorf("no run to report")
	}
	if err := uniqueNames(rep.Runs); err != nil {
		return Written{}, err
	}
	plots, err := Plots(rep.Runs)
	if err != nil {
		return Written{}, err
	}
	rep.Plots = plots
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Written{}, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return Written{}, err
	}
	defer os.RemoveAll(tmp) // gone after the rename; left over only on an error
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Written{}, err
	}
	var names []string
	put := func(name string, data []byte) error {
		if testHookPut != nil {
			if err := testHookPut(name); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return err
		}
		names = append(names, name)
		return nil
	}
	if err := writeFiles(rep, put); err != nil {
		return Written{}, err
	}
	w := Written{}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		w.Moved = fmt.Sprintf("%s.old-%s", dir, time.Now().Format("20060102T150405.000"))
		if err := os.Rename(dir, w.Moved); err != nil {
			return Written{}, fmt.Errorf("moving the old %s aside: %w", dir, err)
		}
	} else if err == nil {
		os.Remove(dir)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return Written{}, err
	}
	for _, n := range names {
		w.Files = append(w.Files, filepath.Join(dir, n))
	}
	return w, nil
}

// testHookPut, when set by a test, runs before each file is written (to interrupt a report).
var testHookPut func(name string) error

// Written is what Write wrote: the files, and where a non-empty directory that stood in the
// way went.
type Written struct {
	Files []string
	Moved string
}

// uniqueNames refuses runs whose names are equal or give the same file names (plots are named
// after runs: "a b" and "a-b" would overwrite each other's).
func uniqueNames(runs []*Run) error {
	seen := map[string]string{}
	for _, r := range runs {
		k := fileSafe(r.Name)
		if prev, ok := seen[k]; ok {
			return fmt.Errorf("runs %q and %q: both give plots named %s-*; give each run its own name (NAME=FILE[,FILE...])", prev, r.Name, k)
		}
		seen[k] = r.Name
	}
	return nil
}

func writeFiles(rep *Report, put func(name string, data []byte) error) error {
	plots := rep.Plots
	if rep.Schedule != nil {
		plots = append(slices.Clip(plots), rep.Schedule) // its files; the page shows it with the table
	}
	for _, p := range plots {
		if err := put(p.Name+".png", p.PNG); err != nil {
			return err
		}
		if err := put(p.Name+".svg", p.SVG); err != nil {
			return err
		}
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := put("report.json", append(js, '\n')); err != nil {
		return err
	}
	if err := put("report.md", markdown(rep)); err != nil {
		return err
	}
	var h bytes.Buffer
	data := struct {
		*Report
		Summary, Setup, Compare, Planned, Drops Table
		SLA                                     []slaRow
		Headline                                *Plot
		Details                                 []*Plot
	}{Report: rep, Summary: Summary(rep.Runs), Setup: Setups(rep.Runs), Compare: Compare(rep.Runs), Planned: Planned(rep.Runs), Drops: Drops(rep.Runs), SLA: slaRows(rep.Runs)}
	data.Headline, data.Details = headline(rep.Plots)
	if err := tmpl.Execute(&h, data); err != nil {
		return err
	}
	return put("report.html", h.Bytes())
}

// headline splits the plots into the headline (the overlaid scheduled-time histogram, shown under
// the summary) and the details.
func headline(plots []*Plot) (*Plot, []*Plot) {
	if len(plots) > 0 && plots[0].Name == HeadlineName {
		return plots[0], plots[1:]
	}
	return nil, plots
}

// Drops is the table of ETF drops, one row each (as many as each stream's result lists), with
// what says whose delay it was: the error queue's code, when the sender handed the packet to the
// kernel against its txtime, and for a missed one how late ETF's release came at least.
func Drops(runs []*Run) Table {
	t := Table{Columns: []string{"seq", "code", "txtime in its cycle (µs)", "handed to the kernel (µs from txtime)", "release late by over (µs)", "whose delay"}}
	for _, l := range linesOf(runs) {
		for _, d := range l.stream.Drops {
			late := "–"
			if d.ReleaseLate != nil {
				late = analysis.Micros(float64(*d.ReleaseLate))
			}
			t.Rows = append(t.Rows, Row{Name: l.label, Cells: []string{fmt.Sprint(d.Seq), d.Code, analysis.Micros(float64(d.Txtime)),
				analysis.Micros(float64(d.HandedOver)), late, d.Whose()}})
		}
	}
	return t
}

type slaRow struct {
	Run string
	analysis.SLAResult
	Actual string
}

func slaRows(runs []*Run) []slaRow {
	var out []slaRow
	for _, r := range runs {
		for _, v := range r.Result.SLA {
			out = append(out, slaRow{r.Name, v, v.Shown("µs")})
		}
	}
	return out
}

// md escapes text from outside (titles, run names, what log headers say, paths) for Markdown:
// one line, no HTML, no table cell break, no emphasis or link. CommonMark lets a backslash escape
// any ASCII punctuation.
func md(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '\n' || c == '\r' || c == '\t':
			b.WriteByte(' ')
		case strings.ContainsRune("\\`*[]<>|&!#", c):
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < ' ' || c == 0x7f:
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func mdAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = md(s)
	}
	return out
}

func markdown(rep *Report) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\nGenerated %s by tsnctl %s.\n\n", md(rep.Title), rep.Generated.UTC().Format(time.RFC3339), md(rep.Version))
	table := func(t Table, first string) {
		fmt.Fprintf(&b, "| %s | %s |\n|---|%s\n", first, strings.Join(mdAll(t.Columns), " | "), strings.Repeat("---:|", len(t.Columns)))
		for _, r := range t.Rows {
			if r.Section {
				fmt.Fprintf(&b, "| **%s** |%s\n", r.Name, strings.Repeat(" |", len(t.Columns)))
				continue
			}
			fmt.Fprintf(&b, "| %s | %s |\n", md(r.Name), strings.Join(mdAll(r.Cells), " | "))
		}
		b.WriteString("\n")
	}
	b.WriteString("## Summary\n\n")
	table(Summary(rep.Runs), "run")
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "%s\n\n", md(n))
	}
	head, details := headline(rep.Plots)
	if head != nil {
		fmt.Fprintf(&b, "![%s](%s.png)\n\n", md(head.Title), head.Name)
	}
	b.WriteString("## Setup\n\n")
	table(Setups(rep.Runs), "")
	b.WriteString("## Results\n\n")
	table(Compare(rep.Runs), "")
	if drops := Drops(rep.Runs); len(drops.Rows) > 0 {
		b.WriteString("## ETF drops\n\n")
		table(drops, "run")
	}
	if rows := slaRows(rep.Runs); len(rows) > 0 {
		b.WriteString("## SLA\n\n| run | stream | rule | actual | verdict |\n|---|---:|---|---:|---|\n")
		for _, r := range rows {
			v := "ok"
			if !r.OK {
				v = "**violated**"
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s |\n", md(r.Run), r.StreamID, md(r.Rule), md(r.Actual), v)
		}
		b.WriteString("\n")
	}
	if planned := Planned(rep.Runs); len(planned.Rows) > 0 || rep.Schedule != nil {
		b.WriteString("## Planned streams\n\n")
		if rep.Schedule != nil {
			fmt.Fprintf(&b, "![%s](%s.png)\n\n", md(rep.Schedule.Title), rep.Schedule.Name)
		}
		if len(planned.Rows) > 0 {
			fmt.Fprintf(&b, "| run | %s |\n|---|%s\n", strings.Join(mdAll(planned.Columns), " | "), strings.Repeat("---|", len(planned.Columns)))
			for _, r := range planned.Rows {
				fmt.Fprintf(&b, "| %s | %s |\n", md(r.Name), strings.Join(mdAll(r.Cells), " | "))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("## Plots\n\n")
	for _, p := range details {
		fmt.Fprintf(&b, "![%s](%s.png)\n\n", md(p.Title), p.Name)
	}
	b.WriteString("## Files\n\n")
	for _, r := range rep.Runs {
		for _, f := range r.Result.Files {
			fmt.Fprintf(&b, "- %s: %s (%s, %d records)", md(r.Name), md(f.Path), f.Format, f.Records)
			for _, w := range f.Warnings {
				fmt.Fprintf(&b, "; warning: %s", md(w))
			}
			b.WriteString("\n")
		}
	}
	return []byte(b.String())
}
