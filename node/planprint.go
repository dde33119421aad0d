package node

import (
	"fmt"
	"io"
	"time"

	"github.com/tsnctl/tsnctl/configs"
)

// WritePlan prints the plan per interface as tsnctl apply shows it: each step's summary and its
// equivalent command, and the taprio's base-time with how it was chosen; dryRun words it as
// what would be done.
func (p *Prepared) WritePlan(w io.Writer, dryRun bool) {
	for _, want := range p.Wants {
		var steps []Step
		for _, st := range p.Steps {
			if st.Iface == want.Name {
				steps = append(steps, st)
			}
		}
		if len(steps) == 0 {
			fmt.Fprintf(w, "%s: nothing to change, the interface is as configured\n", want.Name)
			continue
		}
		verb := "applying"
		if dryRun {
			verb = "would apply (dry run)"
		}
		fmt.Fprintf(w, "%s: %s %d change(s):\n", want.Name, verb, len(steps))
		for _, st := range steps {
			fmt.Fprintf(w, "  + %s\n      %s\n", st.Summary, st.Command)
		}
		if t := want.Taprio; t != nil {
			bt := t.Options.Schedule.BaseTime
			how := "as given"
			if t.BaseAuto {
				how = fmt.Sprintf("auto: the first %s cycle boundary at least %d cycles ahead", configs.Duration(t.Options.Schedule.Cycle()), BaseTimeAhead)
			}
			fmt.Fprintf(w, "  base-time %d (TAI %s; %s)\n", bt, time.Unix(0, bt).UTC().Format("2006-01-02T15:04:05.000000000"), how)
		}
	}
}
