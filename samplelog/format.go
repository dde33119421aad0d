package samplelog

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// namedTime is one of a record's times with the name dump gives it.
type namedTime struct {
	name string
	t    int64
}

// times lists the times a record's type carries, in their order on disk.
func (r *Record) times() []namedTime {
	switch r.Type {
	case TypeTx:
		return []namedTime{{"cycle_start", r.CycleStart}, {"wakeup", r.Wakeup}, {"send_call", r.SendCall}, {"txtime", r.Txtime}, {"planned_wakeup", r.PlannedWakeup}}
	case TypeTxTimestamp:
		return []namedTime{{"tx_timestamp", r.Timestamp}}
	case TypeETFDrop:
		return []namedTime{{"txtime", r.Txtime}}
	case TypeRx:
		return []namedTime{{"cycle_start", r.CycleStart}, {"wakeup", r.Wakeup}, {"send_call", r.SendCall}, {"txtime", r.Txtime}, {"rx_timestamp", r.Timestamp}, {"vlan_tci", int64(r.TCI)}}
	}
	return nil
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
	for _, nt := range r.times() {
		switch {
		case nt.name == "txtime" && nt.t == 0, nt.name == "vlan_tci" && r.Flags&FlagVLAN == 0:
			continue
		case nt.name == "vlan_tci":
			fmt.Fprintf(&b, " vid=%d pcp=%d", r.VID(), r.PCP())
			continue
		}
		fmt.Fprintf(&b, " %s=%d", nt.name, nt.t)
		if nt.name != "cycle_start" && r.CycleStart != 0 {
			fmt.Fprintf(&b, "(+%.3fus)", float64(nt.t-r.CycleStart)/1e3)
		}
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints a record as one JSON line: {"type","stream","seq","flags",TIME...}.
func (r *Record) WriteJSON(w io.Writer) error {
	m := map[string]any{"type": r.Type.String(), "stream": r.Stream, "seq": r.Seq, "flags": r.FlagNames()}
	for _, nt := range r.times() {
		m[nt.name+"_ns"] = nt.t
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
