//go:build lab

package node

import (
	"fmt"
	"github.com/tsnctl/tsnctl/clock"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/configs"
)

// BenchmarkLabApplySeed times applying the seed configuration (channels, VLAN, taprio, ETF) to a
// fresh 4-queue veth: through the tsnctl command, through the node package in-process, and through
// the equivalent ethtool + ip + tc command sequence that `tsnctl apply --dry-run` prints. It prints
// the three side by side with the ratio. Run: make bench-apply.
func BenchmarkLabApplySeed(b *testing.B) {
	if os.Getenv("TSNCTL_LAB") != "1" {
		b.Fatal("lab only: make bench-apply")
	}
	seed, err := os.ReadFile("../configs/seed.yaml")
	if err != nil {
		b.Fatal(err)
	}
	// offload: false, so that both sides do the same (a veth refuses ETF offload; auto would try twice).
	text := strings.NewReplacer("eth1", "v0", "offload: auto", "offload: false").Replace(string(seed))
	file := b.TempDir() + "/seed-v0.yaml"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	run := func(args ...string) {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	fresh := func() {
		exec.Command("ip", "netns", "del", "bench").Run()
		run("ip", "netns", "add", "bench")
		run("ip", "-n", "bench", "link", "add", "name", "v0", "numtxqueues", "4", "numrxqueues", "4", "type", "veth",
			"peer", "name", "v1", "numtxqueues", "4", "numrxqueues", "4")
		// Two channels, so that the seed's channels: 4 makes ethtool -L run too.
		run("ip", "netns", "exec", "bench", "ethtool", "-L", "v0", "rx", "2", "tx", "2")
	}
	defer exec.Command("ip", "netns", "del", "bench").Run()

	// The command sequence, as tsnctl's dry run prints it for a fresh namespace.
	fresh()
	out, err := exec.Command("tsnctl", "apply", "--dry-run", "--netns", "bench", "-f", file).Output()
	if err != nil {
		b.Fatalf("dry run: %v", err)
	}
	var cmds [][]string
	for _, line := range strings.Split(string(out), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "tc ") || strings.HasPrefix(l, "ip ") || strings.HasPrefix(l, "ethtool ") {
			cmds = append(cmds, strings.Fields(l))
		}
	}
	if len(cmds) != 4 {
		b.Fatalf("want 4 commands (ethtool, ip, tc, tc), got %q", cmds)
	}

	type result struct {
		ms float64
		n  int
	}
	results := map[string]result{}
	measure := func(name string, apply func()) {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				fresh()
				b.StartTimer()
				apply()
			}
			results[name] = result{float64(b.Elapsed().Nanoseconds()) / float64(b.N) / 1e6, b.N}
		})
	}
	measure("tsnctl", func() { run("tsnctl", "apply", "--netns", "bench", "-f", file) })
	measure("in-process", func() {
		sys, err := Open("bench")
		if err != nil {
			b.Fatal(err)
		}
		defer sys.Close()
		p, err := sys.Prepare(mustParseFile(b, file), clock.Snapshot{clock.TAI: 1})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sys.Apply(p); err != nil {
			b.Fatal(err)
		}
	})
	measure("commands", func() {
		for _, c := range cmds {
			run(c...)
		}
	})
	cli, lib, seq := results["tsnctl"], results["in-process"], results["commands"]
	fmt.Printf("\napply the seed configuration to a fresh 4-queue veth (lab guest, TCG):\n")
	fmt.Printf("  %-44s %9s %6s\n", "how", "ms/apply", "runs")
	fmt.Printf("  %-44s %9.2f %6d\n", "tsnctl apply (one process, netlink)", cli.ms, cli.n)
	fmt.Printf("  %-44s %9.2f %6d\n", "node.Apply in-process (netlink)", lib.ms, lib.n)
	fmt.Printf("  %-44s %9.2f %6d\n", "ethtool + ip + tc (4 processes)", seq.ms, seq.n)
	fmt.Printf("  ratio commands / tsnctl apply: %.2fx; commands / in-process: %.2fx\n", seq.ms/cli.ms, seq.ms/lib.ms)
	fmt.Printf("  (tsnctl also reads the state first, lints, reads back and verifies; the commands do none of that)\n\n")
}

func mustParseFile(b *testing.B, path string) *configs.Config {
	c, err := configs.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	return c
}
