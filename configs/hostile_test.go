package configs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// aliasBomb is a small file whose aliases expand to n*n schedule entries: n aliases of an
// interface whose schedule holds n aliases of one entry.
func aliasBomb(n int) string {
	var b strings.Builder
	b.WriteString("interfaces:\n  - &i\n    name: eth1\n    taprio:\n      num-tc: 1\n      schedule: [&e {cmd: S, gates: 1, interval: 1ms}")
	b.WriteString(strings.Repeat(", *e", n-1))
	b.WriteString("]\n")
	b.WriteString(strings.Repeat("  - *i\n", n-1))
	return b.String()
}

// The alias bomb runs in a child process under a 2 GiB address-space limit and a 60 s timeout:
// at the commit before the alias budget it ran the machine out of memory.
func TestAliasBombIsRefused(t *testing.T) {
	if os.Getenv("TSNCTL_ALIAS_BOMB_CHILD") == "1" {
		_, err := Parse("bomb.yaml", []byte(aliasBomb(3000)))
		fmt.Printf("result: %v\n", err)
		return
	}
	if len(aliasBomb(3000)) > 40000 {
		t.Fatalf("the bomb is %d bytes, want a small file", len(aliasBomb(3000)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "prlimit", "--as=2147483648", "--", os.Args[0], "-test.run=^TestAliasBombIsRefused$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TSNCTL_ALIAS_BOMB_CHILD=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "aliases expand to too much") {
		t.Fatalf("child: %v after %v:\n%.2000s", err, time.Since(start), out)
	}
	t.Logf("refused in %v", time.Since(start).Round(time.Millisecond))
}

// A file shared by aliases a few times over is fine.
func TestModestAliasesLoad(t *testing.T) {
	c, err := Parse("a.yaml", []byte(aliasBomb(20)))
	if err != nil || len(c.Interfaces) != 20 || len(c.Interfaces[19].Taprio.Schedule) != 20 {
		t.Fatalf("%v", err)
	}
}

// Load reads only regular files (standard input as "-"), bounded: a device, a FIFO or a directory is
// refused by fstat before anything is read, without blocking; a file over 1 MiB is refused naming
// the limit.
func TestSizeCap(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	bigFile := filepath.Join(dir, "big.yaml")
	os.WriteFile(bigFile, []byte(strings.Repeat("# comment\n", MaxSize/10+1)+minimal), 0o644)
	for path, want := range map[string]string{"/dev/zero": "is a character device", fifo: "is a FIFO", dir: "is a directory",
		bigFile: "larger than 1 MiB, the limit for a tsnctl configuration"} {
		start := time.Now()
		done := make(chan error, 1)
		go func() { _, err := Load(path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want %q", path, err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Load blocked for %v", path, time.Since(start))
		}
	}
	big := strings.Repeat("# comment\n", MaxSize/10+1) + minimal
	if _, err := Parse("big.yaml", []byte(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a file over 1 MiB: %v", err)
	}
}

// Gate masks are read as tc reads sched-entry masks: hexadecimal, whatever YAML would make of them.
func TestGateMasksReadAsTcReadsThem(t *testing.T) {
	for in, want := range map[string]Mask{"010": 0x10, "019": 0x19, "10": 0x10, "0x10": 0x10, "1": 1, "0X0f": 0xf, "\"03\"": 3, "ff": 0xff} {
		c, err := Parse("m.yaml", []byte(strings.Replace(minimal, "gates: 0x1", "gates: "+in, 1)))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := c.Interfaces[0].Taprio.Schedule[0].Gates; got != want {
			t.Errorf("gates: %s reads as 0x%x, want 0x%x (tc's reading)", in, uint32(got), uint32(want))
		}
	}
	for _, bad := range []string{"0o17", "-1", "1_0", "0x", "g", "0x1ffffffff", "[1]"} {
		if _, err := Parse("m.yaml", []byte(strings.Replace(minimal, "gates: 0x1", "gates: "+bad, 1))); err == nil ||
			!strings.Contains(err.Error(), "schedule[0].gates") {
			t.Errorf("gates: %s: %v", bad, err)
		}
	}
}

func TestHostileNamesAndKeys(t *testing.T) {
	for name, c := range map[string]struct{ yaml, want string }{
		"space in name":       {"interfaces:\n  - name: \"a b\"\n", `x.yaml:2: interfaces[0].name: "a b" is not a valid interface name: contains white space`},
		"slash in name":       {"interfaces:\n  - name: \"a/b\"\n", "contains '/'"},
		"newline in name":     {"interfaces:\n  - name: \"a\\nb\"\n", "white space"},
		"16-byte name":        {"interfaces:\n  - name: abcdefghijklmnop\n", "16 bytes, the kernel takes at most 15"},
		"16 bytes, 8 letters": {"interfaces:\n  - name: éééééééé\n", "16 bytes"},
		"dot-dot":             {"interfaces:\n  - name: ..\n", "not names"},
		"vlan name":           {"interfaces:\n  - name: eth1\n    vlans:\n      - {id: 3, name: \"eth1; rm -rf /x\"}\n", "interfaces[0].vlans[0].name"},
		"empty vlan name":     {"interfaces:\n  - name: eth1\n    vlans:\n      - {id: 3, name: \"\"}\n", "empty"},
		"ptp interface":       {"ptp:\n  interface: \"eth0; rm\"\n", "ptp.interface"},
		"egress map key twice": {"interfaces:\n  - name: eth1\n    vlans:\n      - {id: 3, egress-qos-map: {6: 6, 6: 5}}\n",
			"x.yaml:4: interfaces[0].vlans[0].egress-qos-map.6: given twice"},
		"ingress key twice":  {"interfaces:\n  - name: eth1\n    vlans:\n      - id: 3\n        ingress-qos-map:\n          1: 1\n          01: 2\n", "x.yaml:7: interfaces[0].vlans[0].ingress-qos-map.01: given twice"},
		"long unknown key":   {"interfaces:\n  - name: eth1\n    " + strings.Repeat("k", 600) + ": 1\n", "kkk… (600 bytes): unknown key"},
		"ptp options twice":  {"ptp:\n  interface: eth0\n  options: {a: 1, a: 2}\n", "ptp.options.a: given twice"},
		"interface map form": {"interfaces:\n  - name: {a: 1}\n", "single value"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
}
