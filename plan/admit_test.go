package plan

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/lint"
)

const admitBase = `interfaces:
  - name: eth1
    channels: 4
    plan:
      etf-delta: 50us
      admission: {vlans: [3, 4], pcp: [5, 6], max-streams: 2}
`

func admitted(name string, vlan uint16, offset time.Duration) configs.Stream {
	return configs.Stream{Name: name, Interface: "eth1", Dest: "10.0.0.2:7788", VLAN: vlan, Period: configs.Duration(2 * time.Millisecond),
		Size: 64, Offset: configs.Duration(offset), MaxLatency: configs.Duration(500 * time.Microsecond)}
}

// An interface that admits streams is configured before any arrives with everything they may use:
// the streams' class and queue under an ETF, the reserved PCPs in the priority map, the reserved
// VLANs with their egress maps; best effort has the whole 1 ms cycle. Admitting streams changes the
// schedule only: the rest of the interface's configuration is the same value.
func TestAdmissionReservesTheStructure(t *testing.T) {
	src := parse(t, admitBase)
	empty, _, err := Expand(src)
	if err != nil {
		t.Fatal(err)
	}
	ifc := empty.Interfaces[0]
	tp := ifc.Taprio
	if tp == nil || len(ifc.ETF) != 1 || *ifc.ETF[0].Queue != streamClass {
		t.Fatalf("no streams yet: %+v", ifc)
	}
	if tp.Map[5] != streamClass || tp.Map[6] != streamClass || tp.Map[0] != beClass || tp.Map[7] != beClass {
		t.Errorf("priority map %v: want 5 and 6 on the streams' class", tp.Map)
	}
	if len(tp.Schedule) != 1 || tp.Schedule[0].Gates != 1<<beClass || time.Duration(*tp.CycleTime) != DefaultAdmissionCycle {
		t.Errorf("schedule %+v, cycle %v: want best effort open for the whole %v", tp.Schedule, *tp.CycleTime, DefaultAdmissionCycle)
	}
	if len(ifc.VLANs) != 2 || ifc.VLANs[0].ID != 3 || ifc.VLANs[1].ID != 4 || ifc.VLANs[1].EgressQoSMap[5] != 5 || ifc.VLANs[1].EgressQoSMap[6] != 6 {
		t.Errorf("VLANs %+v: want 3 and 4, each sending priorities 5 and 6 as themselves", ifc.VLANs)
	}
	if err := lint.Err(lint.Check(empty, lint.Facts{})); err != nil {
		t.Errorf("lint: %v", err)
	}

	with, err := WithAdmitted(src, []configs.Stream{admitted("a", 3, 0), admitted("b", 4, 100*time.Microsecond)})
	if err != nil {
		t.Fatal(err)
	}
	two, res, err := Expand(with)
	if err != nil {
		t.Fatal(err)
	}
	if r := rowOf(res, "a"); r.PCP != 5 {
		t.Errorf("a stream without a PCP gets the first reserved: %d", r.PCP)
	}
	if err := lint.Err(lint.Check(two, lint.Facts{})); err != nil {
		t.Errorf("lint with two admitted streams: %v", err)
	}
	a, b := two.Interfaces[0], empty.Interfaces[0]
	if reflect.DeepEqual(a.Taprio.Schedule, b.Taprio.Schedule) {
		t.Error("the schedule did not change")
	}
	a.Taprio.Schedule, a.Taprio.CycleTime, a.Taprio.BaseTimeOffset, b.Taprio.Schedule, b.Taprio.CycleTime, b.Taprio.BaseTimeOffset = nil, nil, nil, nil, nil, nil
	if !reflect.DeepEqual(a, b) {
		t.Errorf("admitting changed more than the schedule:\n%+v\n%+v", a, b)
	}
}

// What the reservation does not cover is refused, naming the stream and the reason; nothing the
// reservation covers is.
func TestAdmissionRefusals(t *testing.T) {
	src := parse(t, admitBase+"  - name: eth2\nstreams:\n  - {name: file, interface: eth1, dest: 10.0.0.2:7788, vlan: 3, period: 1ms, size: 64, max-latency: 500us}\n")
	pcp := func(s configs.Stream, p uint8) configs.Stream { s.PCP = &p; return s }
	for _, c := range []struct {
		name string
		in   []configs.Stream
		want string
	}{
		{"name", []configs.Stream{admitted("file", 3, 0)}, "name: a stream of this name is already planned"},
		{"twice", []configs.Stream{admitted("x", 3, 0), admitted("x", 3, 0)}, "already planned"},
		{"vlan", []configs.Stream{admitted("x", 5, 0)}, "VLAN 5 is not reserved"},
		{"pcp", []configs.Stream{pcp(admitted("x", 3, 0), 7)}, "PCP 7 is not reserved"},
		{"max", []configs.Stream{admitted("x", 3, 0), admitted("y", 3, 0), admitted("z", 3, 0)}, "max-streams"},
		{"class", []configs.Stream{func() configs.Stream { s := admitted("x", 3, 0); s.Class = configs.ClassA; return s }()}, "remove the class"},
		{"other interface", []configs.Stream{func() configs.Stream { s := admitted("x", 3, 0); s.Interface = "eth2"; return s }()}, "admits no streams"},
		{"unknown interface", []configs.Stream{func() configs.Stream { s := admitted("x", 3, 0); s.Interface = "eth9"; return s }()}, "admits no streams"},
		{"field", []configs.Stream{func() configs.Stream { s := admitted("x", 3, 0); s.Size = 1; return s }()}, "stream.size"},
		{"name control", []configs.Stream{admitted("x\x1b[2J", 3, 0)}, "stream.name"},
	} {
		_, err := WithAdmitted(src, c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		var pe *Error
		if errors.As(err, &pe) && pe.Stream != c.in[len(c.in)-1].Name {
			t.Errorf("%s: the refusal names %q", c.name, pe.Stream)
		}
	}
	if _, err := WithAdmitted(src, []configs.Stream{admitted("x", 3, 0), pcp(admitted("y", 4, 0), 6)}); err != nil {
		t.Errorf("within the reservation: %v", err)
	}
}

// A reservation the loader refuses names its field.
func TestAdmissionConfigRefusals(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"interfaces:\n  - name: eth1\n    plan: {admission: {pcp: [5]}}\n", "interfaces[0].plan.admission.vlans"},
		{"interfaces:\n  - name: eth1\n    plan: {admission: {vlans: [0]}}\n", "interfaces[0].plan.admission.vlans"},
		{"interfaces:\n  - name: eth1\n    plan: {admission: {vlans: [3], pcp: [0]}}\n", "interfaces[0].plan.admission.pcp"},
		{"interfaces:\n  - name: eth1\n    plan: {admission: {vlans: [3], max-streams: 65}}\n", "interfaces[0].plan.admission.max-streams"},
		{"interfaces:\n  - name: eth1\n    plan: {mode: full-offload, admission: {vlans: [3]}}\n", "changed in place"},
		{"interfaces:\n  - name: eth1\n    plan: {admission: {vlans: [3]}}\n    etf: [{queue: 1, delta: 100us}]\n", "interfaces[0].etf"},
		{"interfaces:\n  - name: eth1\n    plan: {admission: {vlans: [3]}}\nstreams:\n  - {name: s, interface: eth1, dest: 10.0.0.2:1, vlan: 3, class: A, period: 1ms, size: 64, max-latency: 500us}\n", "credit-shaped"},
	} {
		if _, err := configs.Parse("s.yaml", []byte(c.text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
}
