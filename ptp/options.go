package ptp

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// kind is how ptp4l reads an option's value (linuxptp's config table: CFG_TYPE_INT, _DOUBLE,
// _ENUM, _STRING), with what tsnctl allows of a string.
type kind int

const (
	kindInt    kind = iota // strtol(value, 0): decimal, 0x hexadecimal, 0 octal; within [min, max]
	kindDouble             // strtod: a decimal number within [min, max]
	kindEnum               // one of labels, case-insensitively
	kindText               // free text on one line (descriptions)
	kindMAC                // six hexadecimal octets, colon-separated
	kindSocket             // a socket's file name, placed in the run directory (uds_address)
)

// option is one ptp4l configuration option: its name and what ptp4l accepts as its value.
type option struct {
	name     string
	kind     kind
	min, max float64 // kindInt, kindDouble
	labels   []string
}

const (
	intMin = math.MinInt32
	intMax = math.MaxInt32
)

func oInt(name string, min, max float64) option {
	return option{name: name, kind: kindInt, min: min, max: max}
}
func oBool(name string) option { return oInt(name, 0, 1) }
func oDbl(name string, min, max float64) option {
	return option{name: name, kind: kindDouble, min: min, max: max}
}
func oEnum(name string, labels ...string) option {
	return option{name: name, kind: kindEnum, labels: labels}
}

// ptp4lOptions are the options linuxptp 3.1.1's ptp4l accepts in a configuration file, with the
// ranges of its config table (config.c). A value outside them is refused before ptp4l is started:
// ptp4l would refuse the file, and `tsnctl ptp run` would restart it forever. TestOptionsAgreeWithPtp4l
// checks every row against the ptp4l on the machine.
var ptp4lOptions = []option{
	oBool("twoStepFlag"), oBool("slaveOnly"), oInt("socket_priority", 0, 15), oInt("priority1", 0, 255),
	oInt("priority2", 0, 255), oInt("domainNumber", 0, 127), oInt("clockClass", 0, 255),
	oInt("clockAccuracy", 0, 255), oInt("offsetScaledLogVariance", 0, 65535), oBool("free_running"),
	oInt("freq_est_interval", 0, intMax), oInt("dscp_event", 0, 63), oInt("dscp_general", 0, 63),
	oEnum("dataset_comparison", "ieee1588", "G.8275.x"), oInt("G.8275.defaultDS.localPriority", 1, 255),
	oInt("maxStepsRemoved", 2, 255), oInt("logAnnounceInterval", -128, 127), oInt("logSyncInterval", -128, 127),
	oInt("operLogSyncInterval", -128, 127), oInt("logMinDelayReqInterval", -128, 127),
	oInt("logMinPdelayReqInterval", -128, 127), oInt("operLogPdelayReqInterval", -128, 127),
	oInt("announceReceiptTimeout", 2, 255), oInt("syncReceiptTimeout", 0, 255), oInt("delayAsymmetry", intMin, intMax),
	oInt("fault_reset_interval", -128, 127), oInt("neighborPropDelayThresh", 0, intMax), oBool("masterOnly"),
	oInt("G.8275.portDS.localPriority", 1, 255), oEnum("asCapable", "true", "auto"), oEnum("BMCA", "ptp", "noop"),
	oBool("inhibit_announce"), oBool("inhibit_delay_req"), oBool("ignore_source_id"), oBool("assume_two_step"),
	oInt("logging_level", 0, 7), oBool("path_trace_enabled"), oBool("follow_up_info"), oBool("hybrid_e2e"),
	oBool("inhibit_multicast_service"), oBool("net_sync_monitor"), oBool("tc_spanning_tree"),
	oInt("tx_timestamp_timeout", 1, intMax), oBool("unicast_listen"), oInt("unicast_master_table", 0, intMax),
	oInt("unicast_req_duration", 10, intMax), oBool("use_syslog"), oBool("verbose"),
	oInt("summary_interval", intMin, intMax), oBool("kernel_leap"), oBool("check_fup_sync"),
	oDbl("pi_proportional_const", 0, math.MaxFloat64), oDbl("pi_integral_const", 0, math.MaxFloat64),
	oDbl("pi_proportional_scale", 0, math.MaxFloat64), oDbl("pi_proportional_exponent", -math.MaxFloat64, math.MaxFloat64),
	oDbl("pi_proportional_norm_max", math.SmallestNonzeroFloat64, 1), oDbl("pi_integral_scale", 0, math.MaxFloat64),
	oDbl("pi_integral_exponent", -math.MaxFloat64, math.MaxFloat64), oDbl("pi_integral_norm_max", math.SmallestNonzeroFloat64, 2),
	oDbl("step_threshold", 0, math.MaxFloat64), oDbl("first_step_threshold", 0, math.MaxFloat64),
	oInt("max_frequency", 0, intMax), oEnum("clock_servo", "pi", "linreg", "ntpshm", "nullf"),
	oInt("sanity_freq_limit", 0, intMax), oInt("ntpshm_segment", intMin, intMax), oBool("msg_interval_request"),
	oInt("servo_num_offset_values", 0, intMax), oInt("servo_offset_threshold", 0, intMax), oBool("write_phase_mode"),
	oInt("transportSpecific", 0, 15), {name: "ptp_dst_mac", kind: kindMAC}, {name: "p2p_dst_mac", kind: kindMAC},
	oInt("udp_ttl", 1, 255), oInt("udp6_scope", 0, 15), {name: "uds_address", kind: kindSocket},
	oEnum("clock_type", "OC", "BC", "P2P_TC", "E2E_TC"), oEnum("network_transport", "L2", "UDPv4", "UDPv6"),
	oEnum("delay_mechanism", "Auto", "E2E", "P2P"),
	oEnum("time_stamping", "hardware", "software", "legacy", "onestep", "p2p1step"),
	oEnum("tsproc_mode", "filter", "raw", "filter_weight", "raw_weight"),
	oEnum("delay_filter", "moving_average", "moving_median"), oInt("delay_filter_length", 1, intMax),
	oInt("egressLatency", intMin, intMax), oInt("ingressLatency", intMin, intMax), oBool("boundary_clock_jbod"),
	{name: "productDescription", kind: kindText}, {name: "revisionData", kind: kindText},
	{name: "manufacturerIdentity", kind: kindText}, {name: "userDescription", kind: kindText},
	oInt("timeSource", 0x10, 0xfe), oBool("gmCapable"), oInt("min_neighbor_prop_delay", intMin, -1),
	oInt("utc_offset", 0, intMax),
}

// OptionSpec is one ptp4l option as tsnctl accepts it in ptp.options, for schemas generated from
// the table (the TSNConfig CRD): Kind is "int" (Min to Max), "double" (Min to Max), "enum" (one of
// Labels, any case), "text" (one line of at most MaxTextLen bytes), "mac" (six hexadecimal
// octets, colon-separated) or "socket" (a file name matching SocketNamePattern, not . or ..).
// Forbidden options carry the reason tsnctl refuses them in Refused.
type OptionSpec struct {
	Name     string
	Kind     string
	Min, Max float64
	Labels   []string
	Refused  string
}

// MaxTextLen is the longest text value tsnctl writes into ptp4l's configuration.
const MaxTextLen = maxText

// SocketNamePattern is what a socket option's value (uds_address) must match.
const SocketNamePattern = `^[A-Za-z0-9._-]{1,64}$`

// Options describes every option ptp.options takes, in the table's order.
func Options() []OptionSpec {
	kinds := map[kind]string{kindInt: "int", kindDouble: "double", kindEnum: "enum", kindText: "text", kindMAC: "mac", kindSocket: "socket"}
	out := make([]OptionSpec, len(ptp4lOptions))
	for i, o := range ptp4lOptions {
		out[i] = OptionSpec{Name: o.name, Kind: kinds[o.kind], Min: o.min, Max: o.max, Labels: slices.Clone(o.labels)}
		if o.name == "time_stamping" {
			out[i].Refused = timeStampingRefused
		}
	}
	return out
}

func optionNames() []string {
	names := make([]string, len(ptp4lOptions))
	for i, o := range ptp4lOptions {
		names[i] = o.name
	}
	return names
}

func lookupOption(name string) (option, bool) {
	i := slices.IndexFunc(ptp4lOptions, func(o option) bool { return o.name == name })
	if i < 0 {
		return option{}, false
	}
	return ptp4lOptions[i], true
}

// maxText is the longest text value tsnctl writes (ptp4l's descriptions are short labels; a
// configuration line must stay far below ptp4l's 1024-byte line buffer, or its tail would be read
// as a line of its own).
const maxText = 128

var (
	socketRe = regexp.MustCompile(SocketNamePattern)
	macRe    = regexp.MustCompile(`^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$`)
	cIntRe   = regexp.MustCompile(`^[+-]?(0[xX][0-9A-Fa-f]+|0[0-7]*|[1-9][0-9]*)$`)
	cDblRe   = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
	ctrlOrX  = regexp.MustCompile(`[\x00-\x1f\x7f]`)
)

// cInt reads an integer as C's strtol with base 0 does: 0x hexadecimal, a leading 0 octal.
func cInt(s string) (int64, bool) {
	if !cIntRe.MatchString(s) {
		return 0, false
	}
	neg := s[0] == '-'
	u := strings.TrimLeft(s, "+-")
	var v uint64
	var err error
	switch {
	case len(u) > 2 && (u[1] == 'x' || u[1] == 'X'):
		v, err = strconv.ParseUint(u[2:], 16, 63)
	case len(u) > 1 && u[0] == '0':
		v, err = strconv.ParseUint(u[1:], 8, 63)
	default:
		v, err = strconv.ParseUint(u, 10, 63)
	}
	if err != nil {
		return 0, false
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

// check returns the value as it will be written, or what ptp4l would accept instead.
func (o option) check(value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" || ctrlOrX.MatchString(v) {
		return "", fmt.Errorf("want a single-line value")
	}
	if len(v) > maxText {
		return "", fmt.Errorf("%d bytes: ptp4l takes short values (at most %d bytes here)", len(v), maxText)
	}
	switch o.kind {
	case kindInt:
		n, ok := cInt(v)
		if !ok {
			return "", fmt.Errorf("want a whole number (decimal, or 0x hexadecimal as in C) from %.0f to %.0f", o.min, o.max)
		}
		if float64(n) < o.min || float64(n) > o.max {
			return "", fmt.Errorf("out of ptp4l's range %.0f to %.0f", o.min, o.max)
		}
	case kindDouble:
		f, err := strconv.ParseFloat(v, 64)
		if !cDblRe.MatchString(v) || err != nil {
			return "", fmt.Errorf("want a decimal number such as 0.7 or 1e-3")
		}
		if f < o.min || f > o.max {
			return "", fmt.Errorf("out of ptp4l's range %g to %g", o.min, o.max)
		}
	case kindEnum:
		i := slices.IndexFunc(o.labels, func(l string) bool { return strings.EqualFold(l, v) })
		if i < 0 {
			return "", fmt.Errorf("want one of %s", strings.Join(o.labels, ", "))
		}
		return o.labels[i], nil
	case kindMAC:
		if !macRe.MatchString(v) {
			return "", fmt.Errorf("want a MAC address such as 01:1B:19:00:00:00")
		}
	case kindSocket:
		if !socketRe.MatchString(v) || v == "." || v == ".." {
			return "", fmt.Errorf("want a file name (letters, digits, '.', '_', '-'; at most 64 bytes), e.g. ptp4l: the socket is made in the run directory (--run-dir, --ptp-run-dir), never elsewhere")
		}
	}
	return v, nil
}
