package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// sweepValues are the boundary values tried for each flag type.
func sweepValues(typ string) []string {
	long := strings.Repeat("a", 100_000)
	switch typ {
	case "int", "int64", "int32":
		return []string{"0", "-1", "9223372036854775807", "-9223372036854775808", "99999999999999999999"}
	case "uint", "uint8", "uint16", "uint32", "uint64":
		return []string{"0", "-1", "255", "65536", "18446744073709551615"}
	case "duration":
		return []string{"0", "-1ns", "1ns", "2562047h"}
	case "bool":
		return []string{"true", "false"}
	case "float64":
		return []string{"0", "-1", "1e308", "NaN"}
	}
	return []string{"", "0", "-1", "x", "sub/../x", "a b;c", long} // strings and custom values
}

// TestFlagSweep runs every command of the tree with every flag at boundary values (one flag at a
// time, the others at safe base values) in a child process, and fails on any panic or runtime
// crash. Built from cobra's tree, so a new flag is swept without being listed here. Safety: apply
// and reset always end with --dry-run and a namespace that does not exist, agent and ptp run with
// a namespace that does not exist (and free_running 1 in the ptp file); traffic goes to loopback
// only.
func TestFlagSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("the sweep runs hundreds of processes")
	}
	if os.Getenv("TSNCTL_LAB") == "1" {
		t.Skip("runs on the host (make unit); in the emulated guest its 500 processes take minutes")
	}
	dir := t.TempDir()
	seed := writeFile(t, "interfaces:\n  - name: tsnsweep0\n    vlans: [{id: 3}]\n")
	ptpFile := filepath.Join(dir, "ptp.yaml")
	os.WriteFile(ptpFile, []byte("ptp:\n  interface: tsnsweep0\n  timestamping: software\n  options: {free_running: 1}\n"), 0o644)
	log := recvLog(t, 20)
	const none = "tsnctl-sweep-none"
	// base: the arguments before the swept flag; tail: after it (they win over the swept value).
	base := map[string][2][]string{
		"tsnctl version": {},
		"tsnctl agent": {{"-f", seed, "--metrics-addr", "127.0.0.1:0"}, {"--netns", none, "--status", filepath.Join(dir, "agent.json"),
			"--sync-status", filepath.Join(dir, "agent-sync.json"), "--ptp-run-dir", filepath.Join(dir, "agent-ptp"), "--kube-file", filepath.Join(dir, "kube.json")}},
		"tsnctl status":          {{"--status", filepath.Join(dir, "noagent.json")}},
		"tsnctl plan":            {{"-f", writeFile(t, streamsFile)}, {"-o", filepath.Join(dir, "planned.yaml"), "--table", filepath.Join(dir, "table.txt")}},
		"tsnctl fleet check":     {{"-f", "../../deploy/kubernetes/example-fleet.yaml"}},
		"tsnctl fleet":           {},
		"tsnctl device-plugin":   {{"--dir", dir}}, // no kubelet there: it retries its registration
		"tsnctl check":           {{"--iface", "lo"}},
		"tsnctl lint":            {{"-f", seed}},
		"tsnctl apply":           {{"-f", seed}, {"--dry-run", "--netns", none}},
		"tsnctl reset":           {{"-f", seed}, {"--dry-run", "--netns", none}},
		"tsnctl show":            {nil, {"--netns", none}},
		"tsnctl send":            {{"--dest", "127.0.0.1:17990", "--count", "2", "--cycle", "1ms", "--window", "0,1ms", "--offset", "0"}},
		"tsnctl recv":            {{"--listen", "127.0.0.1:0", "--duration", "50ms"}},
		"tsnctl dump":            {{log}},
		"tsnctl analyze":         {{log}},
		"tsnctl report":          {{"--out", filepath.Join(dir, "rep"), log}},
		"tsnctl calibrate":       {{"--loops", "3", "--interval", "200us", "--fifo", "0"}},
		"tsnctl calibrate delta": {{"--etf-delta", "50us"}, {log, log}},
		"tsnctl ptp config":      {{"-f", ptpFile, "--run-dir", dir}},
		"tsnctl ptp run":         {{"-f", ptpFile}, {"--netns", none, "--run-dir", dir, "--status", filepath.Join(dir, "st-run.json")}},
		"tsnctl ptp watch":       {{"--uds", filepath.Join(dir, "nouds")}, {"--run-dir", dir, "--status", filepath.Join(dir, "st.json")}},
		"tsnctl ptp status":      {{"--status", filepath.Join(dir, "nostatus.json")}},
		"tsnctl stream add": {{"s1", "--interface", "eth1", "--dest", "127.0.0.1:17990", "--vlan", "3", "--period", "2ms", "--size", "64", "--max-latency", "100us"},
			{"--socket", filepath.Join(dir, "noadmission.sock")}},
		"tsnctl stream list":    {nil, {"--socket", filepath.Join(dir, "noadmission.sock")}},
		"tsnctl stream del":     {{"s1"}, {"--socket", filepath.Join(dir, "noadmission.sock")}},
		"tsnctl stream":         {},
		"tsnctl completion":     {},
		"tsnctl help":           {},
		"tsnctl ptp":            {},
		"tsnctl completion zsh": {},
	}
	// Every path a swept command may write is in the arguments after the swept flag (they win), so
	// nothing lands in the host's /run: checked, not assumed.
	hostRun := listTree("/run/tsnctl")
	defer func() {
		if after := listTree("/run/tsnctl"); !slices.Equal(after, hostRun) {
			t.Errorf("the sweep wrote into the host's /run/tsnctl:\nbefore %q\nafter  %q", hostRun, after)
		}
	}()
	type run struct{ cmd, flag, value string }
	var runs []run
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() || strings.HasPrefix(c.CommandPath(), "tsnctl completion") || c.Name() == "help" {
			return
		}
		if _, ok := base[c.CommandPath()]; !ok {
			t.Errorf("%s has no base arguments in the sweep: add safe ones", c.CommandPath())
			return
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			for _, v := range sweepValues(f.Value.Type()) {
				runs = append(runs, run{c.CommandPath(), f.Name, v})
			}
		})
	}
	root := newRoot()
	root.InitDefaultCompletionCmd()
	walk(root)
	var mu sync.Mutex
	timeouts := map[string]int{}
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, r := range runs {
		b := base[r.cmd]
		args := append(append(append(strings.Fields(r.cmd)[1:], b[0]...), "--"+r.flag+"="+r.value), b[1]...)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			enc, _ := json.Marshal(args)
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSweepChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "TSNCTL_SWEEP_ARGS="+string(enc))
			cmd.Dir = dir
			out, _ := cmd.CombinedOutput()
			text := string(out)
			if ctx.Err() != nil {
				mu.Lock()
				timeouts[r.cmd+" --"+r.flag]++
				mu.Unlock()
				return
			}
			if strings.Contains(text, "panic:") || strings.Contains(text, "fatal error:") || strings.Contains(text, "SIGSEGV") {
				t.Errorf("%s --%s=%.40q crashed:\n%.1500s", r.cmd, r.flag, r.value, text)
			}
		}()
	}
	wg.Wait()
	var slow []string
	for k, n := range timeouts {
		slow = append(slow, fmt.Sprintf("%s (%d)", k, n))
	}
	sort.Strings(slow)
	t.Logf("%d runs over %d commands; still running after 3 s (waiting, not crashed): %v", len(runs), len(base), slow)
}

// TestSweepChild is TestFlagSweep's child: it runs the CLI with the arguments it is given.
func TestSweepChild(t *testing.T) {
	enc := os.Getenv("TSNCTL_SWEEP_ARGS")
	if enc == "" {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(enc), &args); err != nil {
		t.Fatal(err)
	}
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(os.Stdout)
	root.SetErr(os.Stdout)
	err := execute(root)
	fmt.Printf("exit: %v\n", err)
}

// listTree lists the paths below root (none when it does not exist).
func listTree(root string) []string {
	var out []string
	filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err == nil {
			out = append(out, p)
		}
		return nil
	})
	return out
}
