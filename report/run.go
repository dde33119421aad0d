// Package report turns the sample logs of one or more runs into a lab report: report.html (one
// self-contained file, plots embedded), report.md, report.json, and every plot as PNG and SVG.
// Several runs (the seed's case 1, 2, 3) are compared side by side.
package report

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/analysis"
	"github.com/tsnctl/tsnctl/samplelog"
)

// Run is one measured run: a name, its files and their analysis.
type Run struct {
	Name   string           `json:"name"`
	Files  []string         `json:"files"`
	Setup  []Field          `json:"setup"`
	Result *analysis.Result `json:"result"`
}

// Field is one fact about a run's setup, as the log headers record it.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Load reads one run. spec is NAME=FILE[,FILE...], a directory (every file in it; the run is
// named after it), or a single file (named after it).
func Load(spec string, opts analysis.Options, format string) (*Run, error) {
	name, list, named := strings.Cut(spec, "=")
	if !named {
		list = spec
		name = strings.TrimSuffix(filepath.Base(filepath.Clean(spec)), filepath.Ext(spec))
	}
	if name == "" {
		return nil, fmt.Errorf("run %q: empty name; write NAME=FILE[,FILE...]", spec)
	}
	var files []string
	for _, p := range strings.Split(list, ",") {
		if p == "" {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("run %q: %w", name, err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("run %q: %w", name, err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("run %q: no files; give NAME=FILE[,FILE...], a directory of sample logs, or a file", name)
	}
	a := analysis.New(opts)
	if err := a.ReadFiles(files, format); err != nil {
		return nil, fmt.Errorf("run %q: %w", name, err)
	}
	r := &Run{Name: name, Files: files, Result: a.Result()}
	r.Setup = setupOf(r.Result)
	return r, nil
}

// setupOf gathers what the headers say: sender parameters, receiver parameters, host, kernel,
// and the timestamp sources seen in the records.
func setupOf(res *analysis.Result) []Field {
	var out []Field
	add := func(name, value string) {
		if value != "" {
			out = append(out, Field{name, value})
		}
	}
	files := slices.Clone(res.Files)
	sort.SliceStable(files, func(i, j int) bool { return roleOrder(files[i]) < roleOrder(files[j]) })
	for _, f := range files {
		h := f.Header
		if h == nil {
			add("input", f.Format+" ("+filepath.Base(f.Path)+")")
			continue
		}
		switch p := h.Send; {
		case h.Role == samplelog.RoleSend && p != nil:
			add("mode", p.Mode)
			add("cycle", dur(p.Cycle))
			if ws, we, ok := p.Window(); ok {
				add("window", dur(ws)+" – "+dur(we)+" (offset "+dur(p.Offset)+")")
			}
			add("base-time", strconv.FormatInt(p.BaseTime, 10))
			add("packets per cycle", strconv.Itoa(p.PerCycle))
			add("sender interface", p.Iface)
			add("socket priority", strconv.Itoa(p.Priority))
			add("destination", p.Dest)
			add("schedule from", p.FromQdisc)
			add("qdisc", p.Qdisc)
			if p.DeadlineMode {
				add("deadline mode", "on")
			}
			if p.FIFO != 0 {
				add("SCHED_FIFO", strconv.Itoa(p.FIFO))
			}
			add("sender host", h.Host+" ("+h.Kernel+")")
		case h.Role == samplelog.RoleSend:
			add("sender host", h.Host+" ("+h.Kernel+")")
		case h.Role == samplelog.RoleRecv:
			if h.Recv != nil {
				add("receiver interface", h.Recv.Iface)
			}
			add("receiver host", h.Host+" ("+h.Kernel+")")
		}
		if !h.StartedAt.IsZero() {
			add(string(h.Role)+" started", h.StartedAt.UTC().Format(time.RFC3339))
		}
		for _, k := range slices.Sorted(maps.Keys(h.Labels)) {
			if !slices.ContainsFunc(out, func(f Field) bool { return f.Name == "label "+k }) {
				add("label "+k, h.Labels[k])
			}
		}
	}
	var rx, txs []string
	for _, s := range res.Streams {
		if s.Sources.RxTimestamps != "" {
			rx = append(rx, s.Sources.RxTimestamps)
		}
		if s.Sources.TxTimestamps != "" {
			txs = append(txs, s.Sources.TxTimestamps)
		}
		if v := s.Sources.VLAN; v != nil {
			add(fmt.Sprintf("stream %d VLAN", s.StreamID), fmt.Sprintf("VID %d, PCP %d", v.ID, v.PCP))
		}
	}
	if sy := res.Sync; sy != nil {
		add("time sync", fmt.Sprintf("LOCKED %.1f %% of %s – %s (%d samples)", 100*sy.LockedFraction,
			sy.From.UTC().Format("15:04:05"), sy.To.UTC().Format("15:04:05"), sy.Samples))
	}
	add("RX timestamps", uniq(rx))
	add("TX timestamps", uniq(txs))
	return out
}

// roleOrder puts the sender's facts before the receiver's.
func roleOrder(f analysis.FileInfo) int {
	if f.Header != nil && f.Header.Role == samplelog.RoleSend {
		return 0
	}
	return 1
}

// dur prints ns as a duration ("" for 0: not given).
func dur(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Duration(ns).String()
}

func uniq(v []string) string {
	sort.Strings(v)
	var out []string
	for i, s := range v {
		if i == 0 || s != v[i-1] {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}
