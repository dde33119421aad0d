// Package preflight answers "can this node do TSN?" before anything is changed: it probes the
// kernel for the qdiscs and link types TSN needs (for real, in a throwaway network namespace or, without
// CAP_SYS_ADMIN, on a veth pair of its own that it deletes), and
// reads each interface's queues and timestamping, the TAI offset, linuxptp and the privileges.
//
// judge*.go hold the pure rules (facts in, a Check out); probe.go gathers the facts.
package preflight

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Status is a check's verdict.
type Status string

// Verdicts, in rising order of severity.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Check is one named finding. Names are stable: scripts may rely on them.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Remedy string `json:"remedy,omitempty"`
	// Features are what the check found, as Node Feature Discovery features (NFDFeatures).
	Features map[string]string `json:"features,omitempty"`
}

// Report is the outcome of a preflight.
type Report struct {
	Checks []Check `json:"checks"`
	// PHCs are the interfaces' PTP hardware clocks (tsnctl check --cdi describes them).
	PHCs []PHC `json:"phcs,omitempty"`
	// OK is true when no check failed (warnings allowed).
	OK bool `json:"ok"`
}

// NewReport builds a report and sets OK.
func NewReport(checks []Check) Report {
	r := Report{Checks: checks, OK: true}
	for _, c := range checks {
		if c.Status == Fail {
			r.OK = false
		}
	}
	return r
}

// Find returns the check called name.
func (r Report) Find(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// WriteText prints the report as a table, remedies under the checks that need them.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Checks {
		st := string(c.Status)
		if c.Status != Pass {
			st = strings.ToUpper(st)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st, c.Name, c.Detail)
		if c.Remedy != "" {
			fmt.Fprintf(tw, "\t\t→ %s\n", c.Remedy)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var nf, nw int
	for _, c := range r.Checks {
		switch c.Status {
		case Fail:
			nf++
		case Warn:
			nw++
		}
	}
	verdict := "ready for TSN"
	if !r.OK {
		verdict = "not ready for TSN"
	}
	_, err := fmt.Fprintf(w, "\n%d checks, %d failed, %d warnings: %s\n", len(r.Checks), nf, nw, verdict)
	return err
}
