package ptp

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/configs"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func load(t *testing.T, yaml string) *configs.PTP {
	t.Helper()
	c, err := configs.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c.PTP
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ptp -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

func TestGoldenConfigs(t *testing.T) {
	for _, c := range []struct{ name, yaml string }{
		{"gptp-slave", "ptp:\n  interface: enp5s0\n"},
		{"gptp-grandmaster", "ptp:\n  interface: eth1\n  role: grandmaster\n  domain: 3\n"},
		{"lab-software", "ptp:\n  interface: eth0\n  timestamping: software\n  options: {neighborPropDelayThresh: 100000000, logging_level: 7}\n  sync: {offset-threshold: 500us, lock-samples: 4, holdover: 5s}\n"},
	} {
		p, err := Build(load(t, c.yaml), "")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, c.name+".cfg", p.Ptp4lConf())
		golden(t, c.name+".cmd", strings.Join(p.Commands(), "\n")+"\n")
	}
}

// The profile is the seed's ptp4l-node.cfg: every option of it, with its value.
func TestSlaveMatchesSeedNodeConfig(t *testing.T) {
	p, err := Build(load(t, "ptp:\n  interface: enp5s0\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	seed := map[string]string{"gmCapable": "0", "priority1": "128", "priority2": "128", "logAnnounceInterval": "1",
		"logSyncInterval": "-3", "syncReceiptTimeout": "3", "neighborPropDelayThresh": "800", "min_neighbor_prop_delay": "-20000000",
		"assume_two_step": "1", "path_trace_enabled": "1", "follow_up_info": "0", "ptp_dst_mac": "01:1B:19:00:00:00",
		"network_transport": "L2", "delay_mechanism": "P2P", "tx_timestamp_timeout": "100", "summary_interval": "0"}
	got := map[string]string{}
	for _, o := range p.Options {
		got[o.Name] = o.Value
	}
	for k, v := range seed {
		if got[k] != v {
			t.Errorf("%s = %q, seed has %q", k, got[k], v)
		}
	}
	if p.TransportSpecific != 1 || p.Domain != 0 || p.UDS != "/run/tsnctl/ptp/ptp4l" || p.Sync.OffsetThreshold != DefaultOffsetThreshold ||
		p.Sync.Grandmaster || p.PollInterval != DefaultPollInterval {
		t.Errorf("plan %+v", p)
	}
	gm, err := Build(&configs.PTP{Interface: "eth1", Role: RoleGrandmaster}, "")
	if err != nil || !gm.Sync.Grandmaster {
		t.Errorf("grandmaster: %+v %v", gm, err)
	}
	if strings.Join(p.Phc2sysArgs, " ") != "-s enp5s0 -c CLOCK_REALTIME -w -m -q -z /run/tsnctl/ptp/ptp4l -n 0" {
		t.Errorf("phc2sys %v", p.Phc2sysArgs)
	}
}

func TestBadPTPSections(t *testing.T) {
	for yaml, msg := range map[string]string{
		"ptp:\n  role: slave\n":                                                "test.yaml:2: ptp.interface: missing",
		"ptp:\n  interface: eth0\n  role: boss\n":                              `test.yaml:3: ptp.role: "boss": want slave or grandmaster`,
		"ptp:\n  interface: eth0\n  timestamping: hw\n":                        `ptp.timestamping: "hw": want hardware`,
		"ptp:\n  interface: eth0\n  profile: g.8275.1\n":                       `ptp.profile: "g.8275.1": want gptp`,
		"ptp:\n  interface: eth0\n  options: {neighbourPropDelayThresh: 9}\n":  `ptp.options.neighbourPropDelayThresh: "9": not a ptp4l option (did you mean "neighborPropDelayThresh"?)`,
		"ptp:\n  interface: eth0\n  options: {transportSpecific: 0x20}\n":      `out of ptp4l's range 0 to 15`,
		"ptp:\n  interface: eth0\n  options: {time_stamping: software}\n":      `use ptp.timestamping`,
		"ptp:\n  interface: eth0\n  timestamping: software\n  phc2sys: true\n": `phc2sys needs hardware timestamping`,
		"ptp:\n  interface: eth0\n  sync: {poll-interval: 1ms}\n":              `ptp.sync.poll-interval: "1ms": want 10ms or more`,
		"ptp:\n  interface: eth0\n  sync: {lock-samples: -1}\n":                `want 1 or more`,
	} {
		_, err := Build(load(t, yaml), "")
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", yaml, err, msg)
		}
	}
	if _, err := configs.Parse("t.yaml", []byte("ptp:\n  interfce: eth0\n")); err == nil || !strings.Contains(err.Error(), `did you mean "interface"`) {
		t.Errorf("misspelt key: %v", err)
	}
}
