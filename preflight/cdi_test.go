package preflight

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"tags.cncf.io/container-device-interface/pkg/cdi"
	cdispec "tags.cncf.io/container-device-interface/specs-go"
)

// The spec tsnctl check --cdi writes, read back by the CDI library that containerd, CRI-O and
// podman use to resolve device names (which validates it): one device per interface, "all"
// without duplicates, nothing for a name CDI does not allow.
func TestCDISpec(t *testing.T) {
	r := Report{PHCs: []PHC{
		{Interface: "eth1", Device: "/dev/ptp0"},
		{Interface: "eth2", Device: "/dev/ptp1", Error: "open /dev/ptp1: operation not permitted"},
		{Interface: "eth3", Device: "/dev/ptp1"}, // a second port of the same NIC shares its clock
		{Interface: "all", Device: "/dev/ptp2"},
		{Interface: "weird name", Device: "/dev/ptp3"},
	}}
	var b bytes.Buffer
	skipped, err := r.WriteCDI(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(skipped, []string{"all", "weird name"}) {
		t.Errorf("skipped %q, want all and weird name", skipped)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tsnctl.io-phc.json"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cache, err := cdi.NewCache(cdi.WithSpecDirs(dir), cdi.WithAutoRefresh(false))
	if err != nil {
		t.Fatal(err)
	}
	if errs := cache.GetErrors(); len(errs) > 0 {
		t.Fatalf("the CDI library refuses the spec: %v\n%s", errs, b.String())
	}
	got := cache.ListDevices()
	want := []string{"tsnctl.io/phc=all", "tsnctl.io/phc=eth1", "tsnctl.io/phc=eth2", "tsnctl.io/phc=eth3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("devices %q, want %q", got, want)
	}
	paths := func(name string) []string {
		var out []string
		for _, n := range cache.GetDevice(name).ContainerEdits.DeviceNodes {
			if n.Permissions != "rw" {
				t.Errorf("%s: %s with permissions %q, want rw", name, n.Path, n.Permissions)
			}
			out = append(out, n.Path)
		}
		return out
	}
	if p := paths("tsnctl.io/phc=eth3"); !reflect.DeepEqual(p, []string{"/dev/ptp1"}) {
		t.Errorf("eth3: %q", p)
	}
	if p := paths("tsnctl.io/phc=all"); !reflect.DeepEqual(p, []string{"/dev/ptp0", "/dev/ptp1", "/dev/ptp2", "/dev/ptp3"}) {
		t.Errorf("all: %q", p)
	}
	var spec cdispec.Spec
	if err := json.Unmarshal(b.Bytes(), &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Version == "" || spec.Version == cdispec.CurrentVersion {
		t.Errorf("cdiVersion %q: want the oldest version with these fields, for older engines", spec.Version)
	}

	if _, err := (Report{}).WriteCDI(&b); err == nil || !strings.Contains(err.Error(), "no interface has a PTP hardware clock") {
		t.Errorf("no PHC: %v", err)
	}
}
