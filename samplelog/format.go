package samplelog

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// timeNames names a record's six times per type (empty: unused).
var timeNames = map[Type][6]string{
	TypeTx:          {"cycle_start", "wakeup", "send_call", "txtime", "planned_wakeup", ""},
	TypeTxTimestamp: {"tx_timestamp", "", "", "", "", ""},
	TypeETFDrop:     {"", "", "", "txtime", "", ""},
	TypeRx:          {"cycle_start", "wakeup", "send_call", "txtime", "rx_timestamp", "vlan_tci"},
}

var flagNames = []struct {
	bit  uint8
	name string
}{{FlagHardware, "hardware"}, {FlagTxtime, "txtime"}, {FlagNotLocked, "not-locked"},
	{FlagDropMissed, "missed"}, {FlagDropInvalid, "invalid-param"}, {FlagOutsideWindow, "outside-window"}, {FlagVLAN, "vlan"}}

// FlagNames lists a record's flags by name.
func (r *Record) FlagNames() []string {
	out := []string{}
	for _, f := range flagNames {
		if r.Flags&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// WriteText prints a record on one line: the type, stream, sequence, flags, then each time in TAI
// ns, and relative to the cycle start where the record has one.
func (r *Record) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s stream=%d seq=%d", r.Type, r.Stream, r.Seq)
	if fl := r.FlagNames(); len(fl) > 0 {
		b.WriteString(" flags=" + strings.Join(fl, ","))
	}
	names := timeNames[r.Type]
	for i, n := range names {
		if n == "" || (r.T[i] == 0 && n == "txtime") || (n == "vlan_tci" && r.Flags&FlagVLAN == 0) {
			continue
		}
		if n == "vlan_tci" {
			fmt.Fprintf(&b, " vid=%d pcp=%d", r.T[i]&0xFFF, r.T[i]>>13)
			continue
		}
		fmt.Fprintf(&b, " %s=%d", n, r.T[i])
		if i > 0 && names[0] == "cycle_start" && r.T[0] != 0 {
			fmt.Fprintf(&b, "(+%.3fus)", float64(r.T[i]-r.T[0])/1e3)
		}
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints a record as one JSON line: {"type","stream","seq","flags",TIME...}.
func (r *Record) WriteJSON(w io.Writer) error {
	m := map[string]any{"type": r.Type.String(), "stream": r.Stream, "seq": r.Seq, "flags": r.FlagNames()}
	for i, n := range timeNames[r.Type] {
		if n != "" {
			m[n+"_ns"] = r.T[i]
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
