package main

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/plan"
	"github.com/tsnctl/tsnctl/taprio"
)

// MaxStreams bounds spec.config.streams: the API server estimates the cost of a schema's CEL rules
// from its lists' lengths and refuses a CRD whose rules could cost too much. The rules across
// streams and interfaces compare each stream with each interface (MaxStreams × 16 interfaces),
// and each stream's own rules parse its durations; 64 streams keep that well within the budget
// and are more than one node's talkers send on one cycle (a plan's gate list has at most
// plan.MaxEntries entries).
const MaxStreams = 64

// durationPattern is the form of every duration of the CRD: 200us, 1.5ms, 2s, or nanoseconds.
const durationPattern = `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s)|[0-9]+)$`

// celDuration is the CEL expression of the duration in the string expression v (nanoseconds when
// digits only), as the hand-written rules of the CRD read durations.
func celDuration(v string) string {
	return fmt.Sprintf("(%s.matches('^[0-9]+$') ? duration(%s + 'ns') : duration(%s))", v, v, v)
}

// celKey is a property's name as CEL sees it (the API server escapes '-').
func celKey(k string) string { return strings.ReplaceAll(k, "-", "__dash__") }

func duration(desc string, max time.Duration) *yaml.Node {
	rule, msg := celDuration("self")+" > duration('0s')", "the duration must be positive"
	if max > 0 {
		rule += fmt.Sprintf(" && %s <= duration('%s')", celDuration("self"), max)
		msg = fmt.Sprintf("a positive duration of at most %s", max)
	}
	return mapping("description", quoted(desc), "type", str("string"), "maxLength", num(24), "pattern", quoted(durationPattern),
		"x-kubernetes-validations", seq(flow(mapping("rule", quoted(rule), "message", quoted(msg)))))
}

func integer(desc string, min, max float64) *yaml.Node {
	n := mapping("description", quoted(desc), "type", str("integer"), "minimum", num(min))
	if max >= min {
		set(n, "maximum", num(max))
	}
	return n
}

// fields are the keys of a configs struct's fields in order (their json names), and those it
// requires (no omitempty).
func fields(t reflect.Type) (keys, required []string) {
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "-" || name == "" {
			continue
		}
		keys = append(keys, name)
		if !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	return keys, required
}

// object is the schema of the configs struct t: a property per field of t, in t's order, from
// schemas (which must name exactly t's fields), the fields without omitempty required.
func object(t reflect.Type, schemas map[string]*yaml.Node, desc string) (*yaml.Node, error) {
	keys, required := fields(t)
	props := mapping()
	for _, k := range keys {
		s, ok := schemas[k]
		if !ok {
			return nil, fmt.Errorf("crdgen: no schema for %s's field %s", t, k)
		}
		props.Content = append(props.Content, str(k), s)
		delete(schemas, k)
	}
	for k := range schemas {
		return nil, fmt.Errorf("crdgen: a schema for %s, which %s does not have", k, t)
	}
	req := make([]*yaml.Node, len(required))
	for i, r := range required {
		req[i] = str(r)
	}
	n := mapping("description", quoted(desc), "type", str("object"))
	if len(req) > 0 {
		set(n, "required", flow(seq(req...)))
	}
	set(n, "properties", props)
	return n, nil
}

// streamsSchema is the schema of spec.config.streams, from configs.Stream: the checks of the
// loader (configs) and the planner that need no planning, each with the field it names; the
// interface's name as interfaces' names are written (ifName). Whether the streams fit (deadlines,
// utilisation, the hyperperiod) only planning tells: the agent and tsnctl fleet check plan.
func streamsSchema(ifName *yaml.Node) (*yaml.Node, error) {
	octet := `(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
	port := `(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}|0)`
	item, err := object(reflect.TypeFor[configs.Stream](), map[string]*yaml.Node{
		"name":      mapping("description", quoted("the stream's name, unique in the configuration"), "type", str("string"), "minLength", num(1), "maxLength", num(configs.MaxStreamName)),
		"interface": ifName,
		"dest": mapping("description", quoted("host:port with an IPv4 address (UDP), or a MAC address (raw 802.1Q)"), "type", str("string"), "maxLength", num(21),
			"pattern", quoted(`^(`+octet+`(\.`+octet+`){3}:`+port+`|[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){5})$`)),
		"vlan": integer("the 802.1Q VLAN id it is sent on", 1, 4094),
		"pcp":  integer("the 802.1Q priority on the wire, and its socket priority (absent: 6, class A 3, class B 2); not 0, best effort's", 1, 7),
		"class": mapping("description", quoted("802.1Qav's stream reservation class, A or B: the stream is credit-shaped (plan reserves its bandwidth with a cbs under an mqprio); absent: time-scheduled (a taprio window)"),
			"type", str("string"), "enum", flow(seq(str("A"), str("B"), str("a"), str("b")))),
		"period":      duration(fmt.Sprintf("the time between the starts of two of its periods; at most %s (plan's longest cycle)", plan.MaxCycle), plan.MaxCycle),
		"frames":      integer("frames sent in each period (0 or absent: 1)", 0, -1),
		"size":        integer("each frame's payload in bytes (at least tsnctl's packet header)", configs.MinStreamSize, configs.MaxStreamSize),
		"offset":      mapping("description", quoted("the earliest transmit time in each period, less than the period"), "type", str("string"), "maxLength", num(24), "pattern", quoted(durationPattern)),
		"max-latency": duration("the deadline after the offset: the last frame of a period is on the wire by offset + max-latency, within the period", 0),
	}, "a scheduled stream this node's talkers send: tsnctl plans it, with its interface's other streams, into the interface's schedule")
	if err != nil {
		return nil, err
	}
	offset := fmt.Sprintf("(has(self.offset) ? %s : duration('0s'))", celDuration("self.offset"))
	set(item, "x-kubernetes-validations", seq(
		flow(mapping("rule", quoted(offset+" < "+celDuration("self.period")), "fieldPath", quoted(".offset"),
			"message", quoted("[streams] the offset is less than the period"))),
		flow(mapping("rule", quoted(offset+" + "+celDuration("self."+celKey("max-latency"))+" <= "+celDuration("self.period")),
			"fieldPath", quoted(".max-latency"), "message", quoted("[streams] offset + max-latency is within the period (a frame would meet the next period's)")))))
	return mapping(
		"description", quoted(fmt.Sprintf("Scheduled streams (docs/planning.md): the agent plans each interface's taprio, ETF and VLANs from them. Whether they fit (deadlines, utilisation, the hyperperiod) the agent and tsnctl fleet check judge. At most %d, for the cost of the rules. Generated from tsnctl's configs.Stream (make crds).", MaxStreams)),
		"type", str("array"),
		"maxItems", num(MaxStreams),
		"x-kubernetes-list-type", str("map"),
		"x-kubernetes-list-map-keys", flow(seq(str("name"))),
		"items", item), nil
}

// planSchema is the schema of an interface's plan: section, from configs.Planning.
func planSchema() (*yaml.Node, error) {
	modes := []*yaml.Node{}
	for _, m := range []taprio.Mode{taprio.Software, taprio.TxtimeAssist, taprio.FullOffload} {
		modes = append(modes, str(m.String()))
	}
	admission, err := object(reflect.TypeFor[configs.Admission](), map[string]*yaml.Node{
		"vlans": mapping("description", quoted("the VLAN ids admitted streams may be sent on"), "type", str("array"), "minItems", num(1), "maxItems", num(64),
			"items", integer("a VLAN id", 1, 4094)),
		"pcp": mapping("description", quoted(fmt.Sprintf("the 802.1Q priorities admitted streams may use (absent: [%d])", configs.DefaultAdmissionPCP)), "type", str("array"), "maxItems", num(7),
			"items", integer("a PCP, not 0 (best effort's)", 1, 7)),
		"max-streams": integer(fmt.Sprintf("the most streams admitted on the interface at one time (0 or absent: %d)", configs.DefaultAdmissionMaxStreams), 0, configs.MaxAdmissionStreams),
	}, "[streams] what the interface reserves for streams applications add at run time through the agent's admission socket (time-scheduled streams; modes software and txtime-assist)")
	if err != nil {
		return nil, err
	}
	n, err := object(reflect.TypeFor[configs.Planning](), map[string]*yaml.Node{
		"mode":        mapping("description", quoted("the taprio mode planned for: software (the default), txtime-assist or full-offload"), "type", str("string"), "enum", flow(seq(modes...))),
		"etf-delta":   duration(fmt.Sprintf("the ETF delta (absent: %s)", configs.Duration(plan.DefaultETFDelta)), 0),
		"speed":       integer(fmt.Sprintf("the link speed in Mb/s the windows are computed for (0 or absent: %d)", configs.DefaultSpeedMbps), 0, -1),
		"best-effort": integer("the share of each cycle kept for best effort, in percent", 0, 99),
		"preemption":  mapping("description", quoted("the best-effort class preemptible (fp P), the streams' express: guard bands of a fragment, not a frame (mode full-offload, a NIC with a MAC merge layer)"), "type", str("boolean")),
		"min-frag":    integer(fmt.Sprintf("the NIC's tx-min-frag-size in bytes, with preemption (absent: %d)", configs.DefaultMinFrag), 60, 252),
		"cycle":       duration(fmt.Sprintf("the schedule's cycle, a multiple of the streams' hyperperiod, at most %s (absent: the hyperperiod)", plan.MaxCycle), plan.MaxCycle),
		"admission":   admission,
	}, "[streams] planning inputs of an interface that carries streams or admits them (and only of one)")
	if err != nil {
		return nil, err
	}
	set(n, "x-kubernetes-validations", seq(
		flow(mapping("rule", quoted("!has(self.preemption) || !self.preemption || has(self.mode) && self.mode == 'full-offload'"),
			"message", quoted("[streams] preemption: frame preemption is the NIC's, in mode full-offload only"))),
		flow(mapping("rule", quoted("!has(self.min__dash__frag) || has(self.preemption) && self.preemption"),
			"message", quoted("[streams] min-frag matters with preemption: true only"))),
		flow(mapping("rule", quoted("!has(self.admission) || !has(self.mode) || self.mode != 'full-offload'"),
			"message", quoted("[streams] admission: a full-offload schedule is replaced, not changed in place: admission takes modes software and txtime-assist")))))
	return n, nil
}

// configRules are spec.config's rules across interfaces and streams: each stream's interface is
// listed, an interface that carries streams has no hand-written taprio, mqprio or ETF (nor cbs
// when they are credit-shaped), plan: is given only to one that carries streams, an interface's
// streams all have a class or none do, and credit-shaped streams' plan: has only what an mqprio
// and cbs plan takes.
func configRules() *yaml.Node {
	carries := "(has(self.streams) && self.streams.exists(s, s.interface == i.name) || has(i.plan) && has(i.plan.admission))"
	shaped := "has(self.streams) && self.streams.exists(s, s.interface == i.name && has(s.class))"
	return seq(
		flow(mapping("rule", quoted("!has(self.streams) || self.streams.all(s, has(self.interfaces) && self.interfaces.exists(i, i.name == s.interface))"),
			"fieldPath", quoted(".streams"), "message", quoted("[streams] each stream's interface is listed in interfaces: (plan writes its taprio and ETF)"))),
		flow(mapping("rule", quoted("!has(self.interfaces) || self.interfaces.all(i, !(has(i.taprio) || has(i.etf) || has(i.mqprio) || has(i.cbs) && "+shaped+") || !"+carries+")"),
			"fieldPath", quoted(".interfaces"), "message", quoted("[streams] an interface that carries or admits streams has no taprio:, mqprio: or etf:, nor cbs: when they have a class (tsnctl plan writes them)"))),
		flow(mapping("rule", quoted("!has(self.interfaces) || self.interfaces.all(i, !has(i.plan) || "+carries+")"),
			"fieldPath", quoted(".interfaces"), "message", quoted("[streams] plan: applies to an interface that carries streams or admits them (admission:)"))),
		flow(mapping("rule", quoted("!has(self.interfaces) || self.interfaces.all(i, !has(i.plan) || !has(i.plan.admission) || !("+shaped+"))"),
			"fieldPath", quoted(".interfaces"), "message", quoted("[streams] admission takes time-scheduled streams: an interface whose streams are credit-shaped (a class) admits none"))),
		flow(mapping("rule", quoted("!has(self.streams) || self.streams.all(s, self.streams.all(t, s.interface != t.interface || has(s.class) == has(t.class)))"),
			"fieldPath", quoted(".streams"), "message", quoted("[streams] an interface's streams all have a class (credit-shaped: mqprio and cbs) or none does (time-scheduled: taprio and etf)"))),
		flow(mapping("rule", quoted("!has(self.interfaces) || self.interfaces.all(i, !has(i.plan) || !("+shaped+") || !(has(i.plan.mode) && i.plan.mode != 'software' || has(i.plan.etf__dash__delta) || has(i.plan.cycle) || has(i.plan.preemption) && i.plan.preemption || has(i.plan.min__dash__frag)))"),
			"fieldPath", quoted(".interfaces"), "message", quoted("[streams] credit-shaped streams (a class) are planned as an mqprio and cbs: their interface's plan: takes speed and best-effort only"))),
	)
}

// writeStreams writes the generated schemas of streams into spec.config (config).
func writeStreams(config *yaml.Node) error {
	ifc := lookup(config, "properties", "interfaces", "items", "properties")
	name := lookup(ifc, "name")
	if name == nil {
		return fmt.Errorf("no spec.config.interfaces[].name")
	}
	var copied yaml.Node
	b, err := yaml.Marshal(name)
	if err == nil {
		err = yaml.Unmarshal(b, &copied)
	}
	if err != nil {
		return err
	}
	ifName := copied.Content[0]
	set(ifName, "description", quoted("the talker's port: an interface of interfaces:"))
	streams, err := streamsSchema(ifName)
	if err != nil {
		return err
	}
	pl, err := planSchema()
	if err != nil {
		return err
	}
	set(ifc, "plan", pl)
	set(lookup(config, "properties"), "streams", streams)
	set(config, "x-kubernetes-validations", configRules())
	return nil
}
