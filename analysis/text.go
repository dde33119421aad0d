package analysis

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tsnctl/tsnctl/termsafe"
)

// maxDropsText bounds the ETF drops the text lists one by one.
const maxDropsText = 10

// Micros formats ns as µs with three decimals (ns precision), as the tables show times.
func Micros(ns float64) string { return fmt.Sprintf("%.3f", ns/1e3) }

// WriteText prints the result as tables, times in µs. Strings from the logs (paths, header fields,
// warnings, time-sync reasons) are printed with control characters escaped (termsafe).
func (res *Result) WriteText(w io.Writer) {
	safe := termsafe.String
	for _, f := range res.Files {
		desc := f.Format
		if f.Header != nil {
			desc += ", " + safe(string(f.Header.Role))
			if f.Header.Host != "" {
				desc += " on " + safe(f.Header.Host)
			}
		}
		fmt.Fprintf(w, "%s: %d records (%s)\n", safe(f.Path), f.Records, desc)
		for _, warn := range f.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", safe(warn))
		}
		if f.RxErrors > 0 {
			fmt.Fprintf(w, "  rx-error lines: %d\n", f.RxErrors)
		}
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", safe(warn))
	}
	if wu := res.Warmup; wu != nil && wu.Packets > 0 {
		fmt.Fprintf(w, "warm-up: each stream's first %d packets left out\n", wu.Packets)
	} else if wu != nil {
		fmt.Fprintf(w, "warm-up: each stream's first %v left out\n", time.Duration(wu.TimeNs))
	}
	for _, s := range res.Streams {
		p := s.Packets
		fmt.Fprintf(w, "\nstream %d", s.StreamID)
		var src []string
		if s.Sources.RxTimestamps != "" {
			src = append(src, "RX timestamps "+s.Sources.RxTimestamps)
		}
		if s.Sources.TxTimestamps != "" {
			src = append(src, "TX timestamps "+s.Sources.TxTimestamps)
		}
		if v := s.Sources.VLAN; v != nil {
			src = append(src, fmt.Sprintf("VLAN %d PCP %d", v.ID, v.PCP))
		}
		if len(src) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(src, ", "))
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "packets: sent %d, received %d, lost %d, duplicates %d, reordered %d, ETF dropped %d, outside window %d (premature %d, late %d), not locked %d",
			p.Sent, p.Received, p.Lost, p.Duplicates, p.Reordered, p.ETFDropped, p.OutsideWindow, p.Premature, p.Late, p.NotLocked)
		if p.CyclesSkipped > 0 {
			fmt.Fprintf(w, ", cycles skipped %d", p.CyclesSkipped)
		}
		if p.WarmupExcluded > 0 {
			fmt.Fprintf(w, ", warm-up %d", p.WarmupExcluded)
		}
		fmt.Fprintln(w)
		for i, d := range s.Drops {
			if i == maxDropsText {
				fmt.Fprintf(w, "  ETF drop: %d more (-o json lists %d)\n", p.ETFDropped-maxDropsText, len(s.Drops))
				break
			}
			fmt.Fprintf(w, "  ETF drop: %s\n", d.Shown("us"))
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "indicator (us)\tcount\tmin\tp50\tp90\tp99\tp99.9\tp99.99\tmax\tmean\tstddev\tpk-pk\tpercentiles\t")
		for _, name := range IndicatorNames {
			in, ok := s.Indicators[name]
			if !ok {
				continue
			}
			pk := "-"
			if in.PkPk != nil {
				pk = Micros(float64(*in.PkPk))
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, in.Count, Micros(float64(in.Min)),
				Micros(float64(in.P50)), Micros(float64(in.P90)), Micros(float64(in.P99)), Micros(float64(in.P999)),
				Micros(float64(in.P9999)), Micros(float64(in.Max)), Micros(in.Mean), Micros(in.Stddev), pk, in.Percentiles)
		}
		tw.Flush()
	}
	if len(res.Plan) > 0 {
		fmt.Fprintln(w, "\nplanned streams (window and deadline in each period):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		res.planTable(tw)
		tw.Flush()
	}
	if sy := res.Sync; sy != nil {
		fmt.Fprintf(w, "\ntime sync (%s, %s: %d samples, %s to %s): LOCKED %.1f %% of the time", safe(sy.Path), sy.Window, sy.Samples,
			sy.From.UTC().Format("15:04:05"), sy.To.UTC().Format("15:04:05"), 100*sy.LockedFraction)
		if o := sy.OffsetLocked; o != nil {
			fmt.Fprintf(w, "; offset while LOCKED: min %s, p50 %s, p99 %s, max %s us", Micros(float64(o.Min)), Micros(float64(o.P50)),
				Micros(float64(o.P99)), Micros(float64(o.Max)))
		}
		fmt.Fprintln(w)
		for _, c := range sy.Changes {
			fmt.Fprintf(w, "  %s %-8s %s\n", c.At.UTC().Format("15:04:05.000"), safe(c.State), safe(c.Reason))
		}
	}
	if len(res.SLA) > 0 {
		fmt.Fprintln(w, "\nSLA:")
		for _, v := range res.SLA {
			verdict := "ok  "
			if !v.OK {
				verdict = "FAIL"
			}
			fmt.Fprintf(w, "  %s stream %d: %s (actual %s)\n", verdict, v.StreamID, safe(v.Rule), safe(v.Shown("us")))
		}
	}
}
