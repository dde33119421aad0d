// Package ptp turns the `ptp:` section of a tsnctl file into linuxptp configuration: a ptp4l
// configuration file (gPTP / 802.1AS profile by default, as the seed's ptp4l-node.cfg), the ptp4l and
// phc2sys command lines, and the thresholds of the sync state machine. Pure: no process is started
// here (see ptp/supervise), no socket opened (see ptp/mgmt).
package ptp

import (
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"al.essio.dev/pkg/shellescape"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/ifname"
	"github.com/tsnctl/tsnctl/ptp/syncstate"
)

// Option is one ptp4l option and why tsnctl sets it.
type Option struct {
	Name, Value string
	Why         string
}

// gptp is the 802.1AS profile: the seed's ptp4l-node.cfg (and ptp4l-switch.cfg for a grandmaster).
func gptp(role string) []Option {
	gm := role == RoleGrandmaster
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	prio := "128"
	if gm {
		prio = "100"
	}
	return []Option{
		{"gmCapable", b(gm), "802.1AS: only a grandmaster-capable node may become grandmaster"},
		{"priority1", prio, "a grandmaster role wins the BMCA over the 128 of the other nodes"},
		{"priority2", "128", "seed ptp4l-node.cfg"},
		{"logAnnounceInterval", "1", "seed: announce every 2 s"},
		{"logSyncInterval", "-3", "802.1AS: 8 Sync messages per second"},
		{"syncReceiptTimeout", "3", "802.1AS: 3 missed Syncs end the port's SLAVE state"},
		{"neighborPropDelayThresh", "800", "802.1AS: links with a longer peer delay (ns) are not asCapable"},
		{"min_neighbor_prop_delay", "-20000000", "seed: accept small negative peer delays (ns)"},
		{"assume_two_step", "1", "802.1AS: time-aware systems are two-step"},
		{"path_trace_enabled", "1", "802.1AS path trace TLV"},
		{"follow_up_info", b(gm), "802.1AS follow-up information TLV from the grandmaster"},
		{"ptp_dst_mac", "01:1B:19:00:00:00", "seed: the generic PTP multicast address, so every NIC receives it"},
		{"transportSpecific", "0x1", "802.1AS: majorSdoId 1 on every message; in [global] it is also what the management socket expects (pmc -t 1)"},
		{"network_transport", "L2", "802.1AS: PTP over Ethernet"},
		{"delay_mechanism", "P2P", "802.1AS: peer delay"},
		{"tx_timestamp_timeout", "100", "seed: ms to wait for a TX timestamp (i210 can be slow)"},
		{"summary_interval", "0", "seed: a summary line per second"},
	}
}

// Roles and timestamping modes.
const (
	RoleSlave       = "slave"
	RoleGrandmaster = "grandmaster"
	TSHardware      = "hardware"
	TSSoftware      = "software"
)

// Defaults of the sync policy (hardware timestamping).
const (
	DefaultOffsetThreshold    = 100 * time.Nanosecond
	DefaultLockSamples        = 8
	DefaultHoldover           = 10 * time.Second
	DefaultPollInterval       = 250 * time.Millisecond
	DefaultPHCOffsetThreshold = time.Microsecond
)

// Plan is everything `tsnctl ptp run` needs.
type Plan struct {
	Interface    ifname.Name
	Role         string
	Timestamping string
	Domain       uint8
	// TransportSpecific is the 4-bit majorSdoId ptp4l expects in management messages too.
	TransportSpecific uint8
	UDS               string   // ptp4l's management socket
	Options           []Option // the [global] section, in order
	Ptp4lArgs         []string // after the binary name; the configuration file is argument FILE
	Phc2sysArgs       []string // nil: no phc2sys
	// Sync is when the node counts as in sync (the sync state machine's thresholds), judged on a
	// look at ptp4l every PollInterval.
	Sync         syncstate.Policy
	PollInterval time.Duration
}

// DefaultUDS is ptp4l's own default management socket: where `tsnctl ptp watch` looks for a
// ptp4l that someone else started. The ptp4l that tsnctl starts has its socket in its run directory.
const DefaultUDS = "/var/run/ptp4l"

// DefaultRunDir holds the ptp4l configuration and management socket of `tsnctl ptp run` and of the
// agent (their --run-dir and --ptp-run-dir); tsnctl creates it, mode 0700.
const DefaultRunDir = "/run/tsnctl/ptp"

// DefaultUDSName is the name of ptp4l's management socket in the run directory.
const DefaultUDSName = "ptp4l"

// ConfigPath is where the ptp4l configuration for iface is written in runDir (DefaultRunDir when
// empty). A valid interface name has no '/' and is not "." or "..", so the file stays in runDir.
func ConfigPath(runDir string, iface ifname.Name) string {
	if runDir == "" {
		runDir = DefaultRunDir
	}
	return filepath.Join(runDir, "ptp4l-"+string(iface)+".conf")
}

// timeStampingRefused is why ptp.options.time_stamping is refused.
const timeStampingRefused = "use ptp.timestamping: hardware or software"

func fieldErr(p configs.Pos, key, field, value, msg string) error {
	return &configs.Error{File: p.File, Line: p.LineOf(key), Field: "ptp." + field, Value: value, Msg: msg}
}

// oneOf returns value if it is one of allowed, allowed[0] if it is empty, else an error for key.
func oneOf(pos configs.Pos, key, value, want string, allowed ...string) (string, error) {
	if value == "" {
		return allowed[0], nil
	}
	if slices.Contains(allowed, value) {
		return value, nil
	}
	return "", fieldErr(pos, key, key, value, want)
}

// Build validates the section and makes the plan for a ptp4l whose configuration and management
// socket live in runDir (DefaultRunDir when empty): the configuration file is ConfigPath(runDir,
// interface), and uds_address, a file name, is a socket in runDir. A path-valued option never
// names a place outside it: ptp4l unlinks its socket's path before binding, so a path from a
// configuration would let whoever writes configurations delete a file as root.
func Build(c *configs.PTP, runDir string) (*Plan, error) {
	if c == nil {
		return nil, &configs.Error{Field: "ptp", Msg: "no ptp: section in the file; add one with at least `interface: eth1`"}
	}
	if runDir == "" {
		runDir = DefaultRunDir
	}
	configFile := ConfigPath(runDir, c.Interface)
	p := &Plan{Interface: c.Interface, UDS: filepath.Join(runDir, DefaultUDSName)}
	if c.Interface == "" {
		return nil, fieldErr(c.Pos, "interface", "interface", "", "missing: name the port ptp4l runs on (interface: eth1)")
	}
	if strings.ContainsAny(string(c.Interface), "[]") {
		return nil, fieldErr(c.Pos, "interface", "interface", string(c.Interface),
			"ptp4l reads '[' and ']' as a section's brackets and cannot name this port in its configuration; rename the interface (ip link set NAME name NEW)")
	}
	var err error
	if _, err = oneOf(c.Pos, "profile", c.Profile, "want gptp (802.1AS; the only profile so far)", "gptp"); err != nil {
		return nil, err
	}
	if p.Role, err = oneOf(c.Pos, "role", c.Role, "want slave or grandmaster", RoleSlave, RoleGrandmaster); err != nil {
		return nil, err
	}
	if p.Timestamping, err = oneOf(c.Pos, "timestamping", c.Timestamping, "want hardware (ptp4l -H) or software (ptp4l -S)", TSHardware, TSSoftware); err != nil {
		return nil, err
	}
	if c.Domain != nil {
		if *c.Domain > 127 {
			return nil, fieldErr(c.Pos, "domain", "domain", strconv.Itoa(int(*c.Domain)), "want 0 to 127 (ptp4l's domainNumber range)")
		}
		p.Domain = *c.Domain
	}
	p.Options = gptp(p.Role)
	p.Options = append(p.Options, Option{"domainNumber", strconv.Itoa(int(p.Domain)), "ptp.domain"})
	// Overrides, sorted for a stable file; each must be an option ptp4l knows.
	for _, k := range slices.Sorted(maps.Keys(c.Options)) {
		opt, ok := lookupOption(k)
		if !ok {
			return nil, fieldErr(c.Pos, "options", "options."+configs.Abbrev(k), configs.Abbrev(c.Options[k]), "not a ptp4l option"+configs.Suggest(k, optionNames())+"; see ptp4l(8)")
		}
		v, err := opt.check(c.Options[k])
		if err != nil {
			return nil, fieldErr(c.Pos, "options", "options."+k, configs.Abbrev(c.Options[k]), err.Error())
		}
		if opt.kind == kindSocket {
			v = filepath.Join(runDir, v)
			p.UDS = v
		}
		if i := slices.IndexFunc(p.Options, func(o Option) bool { return o.Name == k }); i >= 0 {
			p.Options[i] = Option{k, v, "ptp.options (profile: " + p.Options[i].Value + ")"}
		} else {
			p.Options = append(p.Options, Option{k, v, "ptp.options"})
		}
	}
	var ts string
	for _, o := range p.Options {
		switch o.Name {
		case "transportSpecific":
			ts = o.Value
		case "domainNumber":
			d, _ := cInt(o.Value) // checked against the table: 0 to 127
			p.Domain = uint8(d)
		case "time_stamping":
			return nil, fieldErr(c.Pos, "options", "options.time_stamping", o.Value, timeStampingRefused)
		}
	}
	tsv, _ := cInt(ts) // the profile's 0x1, or an override checked against the table: 0 to 15
	p.TransportSpecific = uint8(tsv)
	if !slices.ContainsFunc(p.Options, func(o Option) bool { return o.Name == "uds_address" }) {
		p.Options = append(p.Options, Option{"uds_address", p.UDS, "the management socket tsnctl and pmc talk to"})
	}
	tsFlag := "-H"
	if p.Timestamping == TSSoftware {
		tsFlag = "-S"
	}
	p.Ptp4lArgs = []string{"-f", configFile, tsFlag, "-m", "-q"} // the port is the file's [IFACE] section
	phc := p.Timestamping == TSHardware
	if c.Phc2sys != nil {
		if *c.Phc2sys && !phc {
			return nil, fieldErr(c.Pos, "phc2sys", "phc2sys", "true", "phc2sys needs hardware timestamping (a PHC); with software timestamping ptp4l steers the system clock itself")
		}
		phc = *c.Phc2sys
	}
	if phc {
		// -w waits for ptp4l and takes the UTC offset from it, so CLOCK_REALTIME is UTC and the PHC
		// (TAI) is CLOCK_TAI; never -O 0 (as the seed does), which puts TAI into CLOCK_REALTIME.
		transport := []string{"-z", p.UDS, "-n", strconv.Itoa(int(p.Domain))}
		if p.Role == RoleGrandmaster {
			p.Phc2sysArgs = append([]string{"-s", "CLOCK_REALTIME", "-c", string(p.Interface), "-w", "-m", "-q"}, transport...)
		} else {
			p.Phc2sysArgs = append([]string{"-s", string(p.Interface), "-c", "CLOCK_REALTIME", "-w", "-m", "-q"}, transport...)
		}
	}
	pol := syncstate.Policy{OffsetThreshold: DefaultOffsetThreshold, LockSamples: DefaultLockSamples, Holdover: DefaultHoldover,
		PHCOffsetThreshold: DefaultPHCOffsetThreshold, Grandmaster: p.Role == RoleGrandmaster}
	poll := DefaultPollInterval
	if s := c.Sync; s != nil {
		set := func(dst *time.Duration, v configs.Duration, key string) error {
			if v < 0 {
				return fieldErr(s.Pos, key, "sync."+key, v.String(), "want a positive duration")
			}
			if v > 0 {
				*dst = time.Duration(v)
			}
			return nil
		}
		for _, f := range []struct {
			dst *time.Duration
			v   configs.Duration
			key string
		}{{&pol.OffsetThreshold, s.OffsetThreshold, "offset-threshold"}, {&pol.Holdover, s.Holdover, "holdover"},
			{&poll, s.PollInterval, "poll-interval"}, {&pol.PHCOffsetThreshold, s.PHCOffsetThreshold, "phc-offset-threshold"}} {
			if err := set(f.dst, f.v, f.key); err != nil {
				return nil, err
			}
		}
		if s.LockSamples < 0 {
			return nil, fieldErr(s.Pos, "lock-samples", "sync.lock-samples", strconv.Itoa(s.LockSamples), "want 1 or more")
		}
		if s.LockSamples > 0 {
			pol.LockSamples = s.LockSamples
		}
		if poll < 10*time.Millisecond {
			return nil, fieldErr(s.Pos, "poll-interval", "sync.poll-interval", poll.String(), "want 10ms or more")
		}
	}
	p.Sync, p.PollInterval = pol, poll
	return p, nil
}

// Ptp4lConf renders the ptp4l configuration file: [global] with a comment per option saying why,
// then the port's section (with transportSpecific again, as the seed writes it).
func (p *Plan) Ptp4lConf() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# ptp4l configuration written by tsnctl: profile gptp (802.1AS), role %s, %s timestamping.\n", p.Role, p.Timestamping)
	b.WriteString("# Each option says why it is set; ptp.options in the tsnctl file overrides them.\n[global]\n")
	w := 0
	for _, o := range p.Options {
		w = max(w, len(o.Name))
	}
	for _, o := range p.Options { // ptp4l takes comments on lines of their own only
		fmt.Fprintf(&b, "# %s\n%-*s %s\n", o.Why, w, o.Name, o.Value)
	}
	fmt.Fprintf(&b, "\n[%s]\ntransportSpecific 0x%x\n", p.Interface, p.TransportSpecific)
	return b.String()
}

// Commands are the command lines, for dry runs and for people who start linuxptp themselves:
// each argument shell-quoted where the shell would read it otherwise.
func (p *Plan) Commands() []string {
	out := []string{shellescape.QuoteCommand(append([]string{"ptp4l"}, p.Ptp4lArgs...))}
	if p.Phc2sysArgs != nil {
		out = append(out, shellescape.QuoteCommand(append([]string{"phc2sys"}, p.Phc2sysArgs...)))
	}
	return out
}

// WriteDryRun prints what `tsnctl ptp config` shows: the ptp4l configuration as it would be written
// to confPath, the command lines, the pmc command that asks ptp4l what tsnctl asks, and when the
// node counts as in sync.
func (p *Plan) WriteDryRun(w io.Writer, confPath string) {
	fmt.Fprintf(w, "# %s\n%s\n# commands\n", confPath, p.Ptp4lConf())
	for _, c := range p.Commands() {
		fmt.Fprintln(w, c)
	}
	fmt.Fprintf(w, "# management: pmc -u -b 0 -t %d -d %d -s %s 'GET TIME_STATUS_NP'\n", p.TransportSpecific, p.Domain, shellescape.Quote(p.UDS))
	pol := p.Sync
	fmt.Fprintf(w, "# in sync (LOCKED) after %d good samples every %v: SLAVE, grandmaster present, new Sync, |offset| <= %v",
		pol.LockSamples, p.PollInterval, pol.OffsetThreshold)
	if p.Phc2sysArgs != nil {
		fmt.Fprintf(w, ", |system clock - PHC| <= %v", pol.PHCOffsetThreshold)
	}
	fmt.Fprintf(w, "; holdover %v\n", pol.Holdover)
}
