package plan

import "testing"

// Stream ids follow the names, not the file's order; a UDP stream goes through its VLAN's
// interface (its name: if the file gives one), a raw one through the port.
func TestStreamsIDsAndInterfaces(t *testing.T) {
	const two = `interfaces:
  - name: eth1
    vlans: [{id: 4, name: ctl}]
streams:
`
	b := "  - {name: beta, interface: eth1, dest: \"10.0.0.2:7788\", vlan: 4, period: 2ms, size: 64, offset: 500us, max-latency: 100us}\n"
	a := "  - {name: alpha, interface: eth1, dest: \"52:54:00:00:02:01\", vlan: 3, period: 1ms, size: 64, max-latency: 100us}\n"
	for _, text := range []string{two + a + b, two + b + a} {
		ss, err := Streams(parse(t, text))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Stream{}
		for _, s := range ss {
			got[s.Name] = s
		}
		if got["alpha"].ID != 1 || got["beta"].ID != 2 || got["alpha"].Iface != "eth1" || got["beta"].Iface != "ctl" ||
			got["alpha"].Row.Stream != "alpha" || got["beta"].Row.Period != 2e6 {
			t.Errorf("%+v", ss)
		}
		if ss[0].Name != map[bool]string{true: "alpha", false: "beta"}[text == two+a+b] {
			t.Errorf("not in the file's order: %s first", ss[0].Name)
		}
	}
	ss, err := Streams(parse(t, "interfaces:\n  - name: eth1\nstreams:\n"+b))
	if err != nil || len(ss) != 1 || ss[0].Iface != "eth1.4" {
		t.Errorf("default VLAN name: %+v %v", ss, err)
	}
}
