// Package configs defines tsnctl's declarative configuration file (YAML) and loads it strictly:
// unknown keys, wrong types and malformed values are errors that name the file, line, field, value
// and the fix. The example files of this directory (seed.yaml, …) are documented configurations.
package configs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/ifname"
	"github.com/tsnctl/tsnctl/mqprio"
	"github.com/tsnctl/tsnctl/taprio"
	"go.yaml.in/yaml/v3"
)

// Config is a whole file.
type Config struct {
	Interfaces []Interface `yaml:"interfaces,omitempty" json:"interfaces,omitempty"`
	// Streams are the scheduled streams this node's talkers send; `tsnctl plan` (and every command
	// that reads a configuration) turns them into their interfaces' schedules.
	Streams []Stream `yaml:"streams,omitempty" json:"streams,omitempty"`
	PTP     *PTP     `yaml:"ptp,omitempty" json:"ptp,omitempty"`
	// Source is the configuration as written, when this one is what plan.Expand made of its
	// streams (nil otherwise; never read from a file): lint's stream-windows rule checks the
	// schedules against the streams and plan: sections they were planned from.
	Source *Config `yaml:"-" json:"-"`
	Pos    `yaml:"-" json:"-"`
}

// Interface is what to configure on one network interface.
type Interface struct {
	Name     ifname.Name `yaml:"name" json:"name"`
	Channels *Channels   `yaml:"channels,omitempty" json:"channels,omitempty"`
	// MACMerge is the NIC's MAC merge layer (802.3br), what frame preemption runs on.
	MACMerge *MACMerge `yaml:"mac-merge,omitempty" json:"mac-merge,omitempty"`
	VLANs    []VLAN    `yaml:"vlans,omitempty" json:"vlans,omitempty"`
	Taprio   *Taprio   `yaml:"taprio,omitempty" json:"taprio,omitempty"`
	// Mqprio is a root mqprio instead of a taprio: traffic classes and queues without gates.
	Mqprio *Mqprio `yaml:"mqprio,omitempty" json:"mqprio,omitempty"`
	ETF    []ETF   `yaml:"etf,omitempty" json:"etf,omitempty"`
	// CBS are credit-based shapers on TX queues of the taprio.
	CBS []CBS `yaml:"cbs,omitempty" json:"cbs,omitempty"`
	// Plan holds the planning inputs of an interface that carries streams.
	Plan *Planning `yaml:"plan,omitempty" json:"plan,omitempty"`
	Pos  `yaml:"-" json:"-"`
}

// Channels is the NIC's channel counts (ethtool -L). A plain number N means "combined N" on NICs
// with combined channels (igb) and "rx N tx N" on those without (veth).
type Channels struct {
	Count    *uint32 `yaml:"-" json:"-"`
	Combined *uint32 `yaml:"combined,omitempty" json:"combined,omitempty"`
	RX       *uint32 `yaml:"rx,omitempty" json:"rx,omitempty"`
	TX       *uint32 `yaml:"tx,omitempty" json:"tx,omitempty"`
	Pos      `yaml:"-" json:"-"`
}

// MACMerge is a NIC's MAC merge layer, in ethtool --set-mm's words; absent keys are left as they
// are.
type MACMerge struct {
	PMACEnabled   *bool `yaml:"pmac-enabled,omitempty" json:"pmac-enabled,omitempty"`
	TxEnabled     *bool `yaml:"tx-enabled,omitempty" json:"tx-enabled,omitempty"`
	VerifyEnabled *bool `yaml:"verify-enabled,omitempty" json:"verify-enabled,omitempty"`
	// VerifyTime is in ms (1-128); TxMinFragSize in bytes (60-252).
	VerifyTime    *uint32 `yaml:"verify-time,omitempty" json:"verify-time,omitempty"`
	TxMinFragSize *uint32 `yaml:"tx-min-frag-size,omitempty" json:"tx-min-frag-size,omitempty"`
	Pos           `yaml:"-" json:"-"`
}

// VLAN is an 802.1Q VLAN interface on top of the interface.
type VLAN struct {
	ID   uint16      `yaml:"id" json:"id"`
	Name ifname.Name `yaml:"name,omitempty" json:"name,omitempty"` // default PARENT.ID
	// EgressQoSMap maps socket priority (skb priority) to the PCP written on the wire.
	EgressQoSMap map[uint32]uint32 `yaml:"egress-qos-map,omitempty" json:"egress-qos-map,omitempty"`
	// IngressQoSMap maps a received frame's PCP to the skb priority.
	IngressQoSMap map[uint32]uint32 `yaml:"ingress-qos-map,omitempty" json:"ingress-qos-map,omitempty"`
	Pos           `yaml:"-" json:"-"`
}

// Taprio is the root taprio qdisc.
type Taprio struct {
	Handle   Handle    `yaml:"handle,omitempty" json:"handle,omitempty"`
	NumTC    int       `yaml:"num-tc" json:"num-tc,omitempty"`
	Map      []int     `yaml:"map,omitempty" json:"map,omitempty"`
	Queues   []Queue   `yaml:"queues,omitempty" json:"queues,omitempty"`
	ClockID  *clock.ID `yaml:"clockid" json:"clockid,omitempty"` // nil: none given
	BaseTime BaseTime  `yaml:"base-time,omitempty" json:"base-time,omitempty"`
	// BaseTimeOffset is added to base-time (to the cycle-aligned time that auto picks, or to the
	// number given): the schedule's phase in a fleet's common cycle (tsnctl fleet check).
	BaseTimeOffset     *Duration   `yaml:"base-time-offset,omitempty" json:"base-time-offset,omitempty"`
	Mode               taprio.Mode `yaml:"mode,omitempty" json:"mode,omitempty"` // absent: software
	CycleTime          *Duration   `yaml:"cycle-time,omitempty" json:"cycle-time,omitempty"`
	CycleTimeExtension *Duration   `yaml:"cycle-time-extension,omitempty" json:"cycle-time-extension,omitempty"`
	TxtimeDelay        *Duration   `yaml:"txtime-delay,omitempty" json:"txtime-delay,omitempty"`
	MaxSDU             []uint32    `yaml:"max-sdu,omitempty" json:"max-sdu,omitempty"`
	// FP is each traffic class's frame preemption (802.1Qbu), as tc's fp: E or P.
	FP       []FP    `yaml:"fp,omitempty" json:"fp,omitempty"`
	Schedule []Entry `yaml:"schedule,omitempty" json:"schedule,omitempty"`
	Pos      `yaml:"-" json:"-"`
}

// Mqprio is a root mqprio qdisc: socket priorities to traffic classes to TX queues, as taprio's
// num-tc, map and queues, without a schedule; hw hands it to the NIC, and only then may it have a
// mode, a shaper and per-class rates (the kernel refuses them in software).
type Mqprio struct {
	Handle Handle  `yaml:"handle,omitempty" json:"handle,omitempty"`
	NumTC  int     `yaml:"num-tc" json:"num-tc,omitempty"`
	Map    []int   `yaml:"map,omitempty" json:"map,omitempty"`
	Queues []Queue `yaml:"queues,omitempty" json:"queues,omitempty"`
	HW     bool    `yaml:"hw,omitempty" json:"hw,omitempty"`
	// Mode and Shaper are tc's words: dcb or channel; dcb or bw_rlimit.
	Mode   *mqprio.Mode   `yaml:"mode,omitempty" json:"mode,omitempty"`
	Shaper *mqprio.Shaper `yaml:"shaper,omitempty" json:"shaper,omitempty"`
	// MinRate and MaxRate are per traffic class (shaper bw_rlimit), as tc writes rates: 100Mbit.
	MinRate []Rate `yaml:"min-rate,omitempty" json:"min-rate,omitempty"`
	MaxRate []Rate `yaml:"max-rate,omitempty" json:"max-rate,omitempty"`
	// FP is each traffic class's frame preemption, as tc's fp: E or P (hw only).
	FP  []FP `yaml:"fp,omitempty" json:"fp,omitempty"`
	Pos `yaml:"-" json:"-"`
}

// FP is a traffic class's frame preemption (802.1Qbu, 802.3br), as tc writes it: E (express: it
// preempts) or P (preemptible: its frames can be interrupted by express ones).
type FP bool

// Frame preemption states.
const (
	Express     FP = false
	Preemptible FP = true
)

// UnmarshalYAML reads E or P (or express, preemptible).
func (f *FP) UnmarshalYAML(n *yaml.Node) error {
	switch strings.ToLower(n.Value) {
	case "e", "express":
		*f = Express
	case "p", "preemptible":
		*f = Preemptible
	default:
		return valueError(n, "E (express) or P (preemptible), as tc's fp")
	}
	return nil
}

// String is tc's letter.
func (f FP) String() string {
	if f == Preemptible {
		return "P"
	}
	return "E"
}

// MarshalYAML writes tc's letter.
func (f FP) MarshalYAML() (any, error) { return f.String(), nil }

// MarshalJSON writes "E" or "P".
func (f FP) MarshalJSON() ([]byte, error) { return json.Marshal(f.String()) }

// Rate is bits per second, written as tc writes rates: 100Mbit, 1Gbit, 500kbit, 8000bit, a plain
// number of bit/s, or bytes per second with bps (tc's unit for bytes: 1mbps is 8 Mbit/s).
type Rate uint64

// UnmarshalYAML reads a rate.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseRate(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return valueError(n, "a rate as tc writes it, such as 100Mbit, 1Gbit or 500kbit")
	}
	*r = v
	return nil
}

// ParseRate reads a rate as tc does (tc's get_rate64: bit, kbit, mbit, gbit, tbit and their
// byte forms bps, kbps, mbps…, SI prefixes, and the IEC kibit, mibit…; case does not matter).
func ParseRate(s string) (Rate, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	num, unit := s[:i], s[i:]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("not a rate: %q", s)
	}
	mult := map[string]float64{"": 1, "bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12,
		"kibit": 1 << 10, "mibit": 1 << 20, "gibit": 1 << 30, "tibit": 1 << 40,
		"bps": 8, "kbps": 8e3, "mbps": 8e6, "gbps": 8e9, "tbps": 8e12,
		"kibps": 8 << 10, "mibps": 8 << 20, "gibps": 8 << 30, "tibps": 8 << 40}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("unknown unit %q", unit)
	}
	bits := v * mult
	if bits >= 1<<63 {
		return 0, fmt.Errorf("rate %q too large", s)
	}
	return Rate(bits), nil
}

// String writes the rate in the largest of Gbit, Mbit, kbit that keeps it whole, else bit.
func (r Rate) String() string {
	switch n := uint64(r); {
	case n != 0 && n%1e9 == 0:
		return fmt.Sprintf("%dGbit", n/1e9)
	case n != 0 && n%1e6 == 0:
		return fmt.Sprintf("%dMbit", n/1e6)
	case n != 0 && n%1e3 == 0:
		return fmt.Sprintf("%dkbit", n/1e3)
	}
	return fmt.Sprintf("%dbit", uint64(r))
}

// MarshalYAML writes the rate with its unit.
func (r Rate) MarshalYAML() (any, error) { return r.String(), nil }

// MarshalJSON writes "100Mbit".
func (r Rate) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

// Entry is one gate control list entry.
type Entry struct {
	Cmd      taprio.Cmd `yaml:"cmd" json:"cmd"`
	Gates    Mask       `yaml:"gates" json:"gates,omitempty"`
	Interval Duration   `yaml:"interval" json:"interval,omitempty"`
	Pos      `yaml:"-" json:"-"`
}

// ETF is an etf qdisc under one TX queue of the taprio.
type ETF struct {
	Queue         *int      `yaml:"queue" json:"queue,omitempty"`
	ClockID       *clock.ID `yaml:"clockid" json:"clockid,omitempty"` // nil: none given
	Delta         Duration  `yaml:"delta" json:"delta,omitempty"`
	Offload       Offload   `yaml:"offload,omitempty" json:"offload,omitempty"`
	DeadlineMode  bool      `yaml:"deadline-mode,omitempty" json:"deadline-mode,omitempty"`
	SkipSockCheck bool      `yaml:"skip-sock-check,omitempty" json:"skip-sock-check,omitempty"`
	Pos           `yaml:"-" json:"-"`
}

// CBS is a cbs qdisc (credit-based shaper, 802.1Qav) under one TX queue of the taprio. idleslope
// is the class's reserved bandwidth; sendslope, hicredit and locredit are either all given, as tc
// takes them, or all left out: tsnctl then derives them from idleslope, the link speed the kernel
// sees and the frame sizes (see cbs.Derive).
type CBS struct {
	Queue *int `yaml:"queue" json:"queue,omitempty"`
	// IdleSlope is in kbit/s, as tc's idleslope.
	IdleSlope *int64 `yaml:"idleslope" json:"idleslope,omitempty"`
	// SendSlope is in kbit/s (negative), as tc's sendslope.
	SendSlope *int64 `yaml:"sendslope,omitempty" json:"sendslope,omitempty"`
	// HiCredit and LoCredit are in bytes, as tc's.
	HiCredit *int64 `yaml:"hicredit,omitempty" json:"hicredit,omitempty"`
	LoCredit *int64 `yaml:"locredit,omitempty" json:"locredit,omitempty"`
	// MaxFrame is the class's largest frame in bytes, on the wire from destination address to
	// FCS (default 1522: a full tagged frame); derived credits only.
	MaxFrame *int64 `yaml:"max-frame,omitempty" json:"max-frame,omitempty"`
	// MaxInterference is the largest frame of a lower class that can hold this class up, in bytes
	// (default 1522); derived credits only.
	MaxInterference *int64  `yaml:"max-interference,omitempty" json:"max-interference,omitempty"`
	Offload         Offload `yaml:"offload,omitempty" json:"offload,omitempty"`
	Pos             `yaml:"-" json:"-"`
}

// Pos records where a value and each of its keys stand in the file.
type Pos struct {
	File string
	Line int
	Keys map[string]int // key -> line of its value
}

// LineOf returns the line of key, or of the value itself when the key is absent.
func (p Pos) LineOf(key string) int {
	if l, ok := p.Keys[key]; ok {
		return l
	}
	return p.Line
}

// Duration is nanoseconds, written as 200us, 5ms, 1.5s, 100ns or a plain number of nanoseconds.
type Duration int64

// UnmarshalYAML reads a duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return valueError(n, "a duration such as 200us, 5ms, 1s or a number of nanoseconds")
	}
	*d = v
	return nil
}

// ParseDuration reads 200us, 5ms, 1.5s, 100ns or plain nanoseconds.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return Duration(n), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return Duration(d), nil
}

// String prints the duration in the largest unit that keeps it whole: 200us, 5ms, 1500ns.
func (d Duration) String() string {
	n := int64(d)
	switch {
	case n != 0 && n%1e9 == 0:
		return fmt.Sprintf("%ds", n/1e9)
	case n != 0 && n%1e6 == 0:
		return fmt.Sprintf("%dms", n/1e6)
	case n != 0 && n%1e3 == 0:
		return fmt.Sprintf("%dus", n/1e3)
	}
	return fmt.Sprintf("%dns", n)
}

// MarshalYAML writes the duration with its unit.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Handle is a qdisc major handle in tc's notation: `100` or "100:" mean tc's `handle 100:`, which
// tc reads as hexadecimal (0x100).
type Handle uint16

// UnmarshalYAML reads a handle as tc does.
func (h *Handle) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSuffix(strings.TrimSpace(n.Value), ":")
	s = strings.TrimPrefix(strings.ToLower(s), "0x")
	v, err := strconv.ParseUint(s, 16, 16)
	if err != nil || n.Kind != yaml.ScalarNode || v == 0 {
		return valueError(n, `a qdisc handle as tc writes it, e.g. 100 or "100:" (hexadecimal, 1 to ffff)`)
	}
	*h = Handle(v)
	return nil
}

// String prints "100:".
func (h Handle) String() string { return fmt.Sprintf("%x:", uint16(h)) }

// MarshalYAML writes the handle the way tc does, as a string so it reads back the same.
func (h Handle) MarshalYAML() (any, error) { return fmt.Sprintf("%x", uint16(h)), nil }

// Mask is a gate mask, read as tc reads sched-entry masks: hexadecimal, with or without 0x.
// So 10, 010 and 0x10 are all 0x10 (traffic class 4), as `tc ... sched-entry S 10 ...` is; YAML's
// own reading of 010 as octal or 10 as decimal does not apply.
type Mask uint32

// UnmarshalYAML reads a mask.
func (m *Mask) UnmarshalYAML(n *yaml.Node) error {
	s := strings.ToLower(n.Value)
	s = strings.TrimPrefix(s, "0x")
	v, err := strconv.ParseUint(s, 16, 32)
	if n.Kind != yaml.ScalarNode || err != nil || s == "" || strings.ContainsAny(s, "+-_") {
		return valueError(n, "a gate mask in hexadecimal as tc reads it, such as 0x01 or 03 (one bit per traffic class)")
	}
	*m = Mask(v)
	return nil
}

// MarshalYAML writes 0x01.
func (m Mask) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprintf("0x%02x", uint32(m))}, nil
}

// Queue is a traffic class's TX queues, "COUNT@OFFSET" as in tc.
type Queue struct{ Count, Offset uint16 }

// UnmarshalYAML reads "1@0".
func (q *Queue) UnmarshalYAML(n *yaml.Node) error {
	c, o, ok := strings.Cut(n.Value, "@")
	cn, err1 := strconv.ParseUint(strings.TrimSpace(c), 10, 16)
	on, err2 := strconv.ParseUint(strings.TrimSpace(o), 10, 16)
	if n.Kind != yaml.ScalarNode || !ok || err1 != nil || err2 != nil || cn == 0 {
		return valueError(n, `COUNT@OFFSET as in tc, e.g. "1@0" (COUNT >= 1)`)
	}
	*q = Queue{uint16(cn), uint16(on)}
	return nil
}

// MarshalYAML writes "1@0".
func (q Queue) MarshalYAML() (any, error) { return fmt.Sprintf("%d@%d", q.Count, q.Offset), nil }

// BaseTime is `auto` (plan it: see taprio.PlanBaseTime) or TAI nanoseconds.
type BaseTime struct {
	Auto bool
	NS   int64
}

// UnmarshalYAML reads auto or a number.
func (b *BaseTime) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Value == "auto" {
		*b = BaseTime{Auto: true}
		return nil
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil || n.Kind != yaml.ScalarNode || v < 0 {
		return valueError(n, "auto, or a time in TAI nanoseconds such as 1588076872000000000")
	}
	*b = BaseTime{NS: v}
	return nil
}

// MarshalYAML writes auto or the number.
func (b BaseTime) MarshalYAML() (any, error) {
	if b.Auto {
		return "auto", nil
	}
	return b.NS, nil
}

// MaxScheduleEntries is the most entries a taprio schedule may have, written by hand or planned:
// the TSNConfig CRD's limit (its rules' cost budget), below what the node's read-back returns in
// full. Measured in the lab (Debian's 6.12 kernel, 2026-12-06; go test -tags lab -exec
// testbed/go-exec -run TestLabGateListMeasure ./node -args -measure-gate-list): the kernel installs
// up to 1817 entries; tc -j -d qdisc show and the node package read back up to 439 with a change
// pending (two lists in the dump) and 880 with one; past that the qdisc is missing from the dump,
// without an error. lint's schedule rule, plan and the CRD take this one number.
const MaxScheduleEntries = 256

// Offload is ETF's offload: true, false or auto (try hardware, fall back with a warning).
type Offload string

// Offload values.
const (
	OffloadFalse Offload = "false"
	OffloadTrue  Offload = "true"
	OffloadAuto  Offload = "auto"
)

// UnmarshalYAML reads true, false or auto.
func (o *Offload) UnmarshalYAML(n *yaml.Node) error {
	switch strings.ToLower(n.Value) {
	case "true", "yes", "on":
		*o = OffloadTrue
	case "false", "no", "off":
		*o = OffloadFalse
	case "auto":
		*o = OffloadAuto
	default:
		return valueError(n, "true, false or auto")
	}
	return nil
}

// MarshalYAML writes the bare word.
func (o Offload) MarshalYAML() (any, error) {
	if o == OffloadAuto {
		return "auto", nil
	}
	return o == OffloadTrue, nil
}

// JSON forms: the same words as in YAML, so `tsnctl show -o json` output loads as a configuration.

// MarshalJSON writes "200us".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// MarshalJSON writes "100".
func (h Handle) MarshalJSON() ([]byte, error) { return json.Marshal(fmt.Sprintf("%x", uint16(h))) }

// MarshalJSON writes "0x01" (JSON has no hexadecimal numbers).
func (m Mask) MarshalJSON() ([]byte, error) { return json.Marshal(fmt.Sprintf("0x%02x", uint32(m))) }

// MarshalJSON writes "1@0".
func (q Queue) MarshalJSON() ([]byte, error) {
	return json.Marshal(fmt.Sprintf("%d@%d", q.Count, q.Offset))
}

// MarshalJSON writes "auto" or the number.
func (b BaseTime) MarshalJSON() ([]byte, error) {
	v, _ := b.MarshalYAML()
	return json.Marshal(v)
}

// MarshalJSON writes true, false or "auto".
func (o Offload) MarshalJSON() ([]byte, error) {
	v, _ := o.MarshalYAML()
	return json.Marshal(v)
}

// IsZero lets omitempty drop an unset base-time.
func (b BaseTime) IsZero() bool { return !b.Auto && b.NS == 0 }

// Marshal writes a configuration the way people write them: lists and mappings of plain values
// on one line (map: [3, 3, ...], egress-qos-map: {6: 6}, - {cmd: S, gates: 0x01, interval: 200us}).
func Marshal(c *Config) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(c); err != nil {
		return nil, err
	}
	flowLeaves(&n)
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

func flowLeaves(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		leaf := len(n.Content) > 0
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				leaf = false
			}
		}
		if leaf {
			n.Style = yaml.FlowStyle
		}
	}
	for _, c := range n.Content {
		flowLeaves(c)
	}
}

// MarshalYAML writes a plain count as it was written (channels: 4), the counts otherwise.
func (c Channels) MarshalYAML() (any, error) {
	if c.Count != nil && c.Combined == nil && c.RX == nil && c.TX == nil {
		return *c.Count, nil
	}
	type counts Channels // without this method
	return counts(c), nil
}

// DefaultVLANName is the name a VLAN without name: gets: PARENT.ID, as `ip link add link eth1
// name eth1.3` writes it.
func DefaultVLANName(parent ifname.Name, id uint16) string { return fmt.Sprintf("%s.%d", parent, id) }

// LinkName is the name of v's link on parent: its name:, or DefaultVLANName.
func (v *VLAN) LinkName(parent ifname.Name) string {
	if v.Name != "" {
		return string(v.Name)
	}
	return DefaultVLANName(parent, v.ID)
}
