package ptp

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/configs"
)

// ptp4lRead reads a configuration as ptp4l 3.1.1's config_read does: fgets into a 1024-byte
// buffer (a longer line goes on as a line of its own), comments and blank lines skipped, "[name]"
// opens a section, "option value" anywhere else. It returns the settings of each section in order.
func ptp4lRead(text string) (sections []string, settings map[string][][2]string) {
	settings = map[string][][2]string{}
	r := bufio.NewReaderSize(strings.NewReader(text), 16)
	cur := ""
	for {
		line, err := fgets(r, 1024)
		if line == "" && err != nil {
			break
		}
		l := strings.TrimSpace(line)
		if l == "" || l[0] == '#' {
			continue
		}
		if l[0] == '[' {
			cur = strings.TrimSpace(strings.NewReplacer("[", " ", "]", " ").Replace(l))
			sections = append(sections, cur)
			continue
		}
		name, value, _ := strings.Cut(l, " ")
		settings[cur] = append(settings[cur], [2]string{name, strings.TrimSpace(value)})
	}
	return sections, settings
}

// fgets reads up to size-1 bytes or through a newline.
func fgets(r *bufio.Reader, size int) (string, error) {
	var b strings.Builder
	for b.Len() < size-1 {
		c, err := r.ReadByte()
		if err != nil {
			return b.String(), err
		}
		b.WriteByte(c)
		if c == '\n' {
			break
		}
	}
	return b.String(), nil
}

// intended checks that ptp4l would read exactly the plan's options in [global] and one port
// section, the plan's interface, holding transportSpecific only.
func intended(t *testing.T, p *Plan) {
	t.Helper()
	sections, settings := ptp4lRead(p.Ptp4lConf())
	if len(sections) != 2 || sections[0] != "global" || sections[1] != string(p.Interface) {
		t.Fatalf("sections %q, want [global %s]", sections, p.Interface)
	}
	var want [][2]string
	for _, o := range p.Options {
		want = append(want, [2]string{o.Name, o.Value})
	}
	if fmt.Sprint(settings["global"]) != fmt.Sprint(want) {
		t.Errorf("[global] reads as %q, want %q", settings["global"], want)
	}
	if port := settings[string(p.Interface)]; len(port) != 1 || port[0][0] != "transportSpecific" {
		t.Errorf("[%s] reads as %q", p.Interface, port)
	}
	if len(settings[""]) != 0 {
		t.Errorf("lines outside any section: %q", settings[""])
	}
}

// The injections the hostile-input probe found: each is refused with the field named, and nothing
// the file says can add a line, a section or an argument to what tsnctl writes and runs.
func TestNoInjection(t *testing.T) {
	for name, c := range map[string]struct{ yaml, want string }{
		"section through the interface": {"ptp:\n  interface: \"eth0]\\n[global]\\nfree_running 0\\npriority1 0\\n[eth0\"\n",
			`ptp.interface: "eth0]\n[global]\nfree_running 0\npriority1 0\n[eth0" is not a valid interface name: 47 bytes`},
		"section through a short name": {"ptp:\n  interface: \"e]\\n[global\"\n", "contains white space"},
		"bracket in the name":          {"ptp:\n  interface: \"eth0]\"\n", "ptp4l reads '[' and ']' as a section"},
		"path through the interface":   {"ptp:\n  interface: \"x/../../../../tmp/pwn\"\n", "ptp.interface: \"x/../../../../tmp/pwn\" is not a valid interface name"},
		"short path":                   {"ptp:\n  interface: \"../../tp\"\n", "contains '/'"},
		"line split by ptp4l's reader": {"ptp:\n  interface: eth0\n  options: {productDescription: \"" + strings.Repeat("x", 1010) + "\\nfree_running 0\"}\n",
			"ptp.options.productDescription"},
		"long value": {"ptp:\n  interface: eth0\n  options: {productDescription: \"" + strings.Repeat("x", 1015) + " free_running 0\"}\n",
			"ptp4l takes short values"},
		"newline in a value":            {"ptp:\n  interface: eth0\n  options: {priority2: \"128\\nfree_running 0\"}\n", "single-line value"},
		"spaces in uds":                 {"ptp:\n  interface: eth0\n  options: {uds_address: \"x; reboot\"}\n", "want a file name"},
		"uds outside the run directory": {"ptp:\n  interface: eth0\n  options: {uds_address: /etc/shadow}\n", "never elsewhere"},
		"uds in a subdirectory":         {"ptp:\n  interface: eth0\n  options: {uds_address: sub/ptp4l}\n", "want a file name"},
		"uds climbing out":              {"ptp:\n  interface: eth0\n  options: {uds_address: ../../etc/passwd}\n", "want a file name"},
		"uds the run directory itself":  {"ptp:\n  interface: eth0\n  options: {uds_address: ..}\n", "want a file name"},
		"uds too long":                  {"ptp:\n  interface: eth0\n  options: {uds_address: " + strings.Repeat("a", 65) + "}\n", "at most 64 bytes"},
		"domain out of range":           {"ptp:\n  interface: eth0\n  domain: 200\n", `ptp.domain: "200": want 0 to 127`},
		"domainNumber option":           {"ptp:\n  interface: eth0\n  options: {domainNumber: 128}\n", "out of ptp4l's range 0 to 127"},
		"word for a number":             {"ptp:\n  interface: eth0\n  options: {logSyncInterval: fast}\n", `"fast": want a whole number`},
		"Go-only number form":           {"ptp:\n  interface: eth0\n  options: {logSyncInterval: 1_0}\n", "want a whole number"},
		"unknown enum":                  {"ptp:\n  interface: eth0\n  options: {delay_mechanism: P3P}\n", "want one of Auto, E2E, P2P"},
		"duplicate option key":          {"ptp:\n  interface: eth0\n  options: {priority2: 1, priority2: 2}\n", "given twice"},
		"huge unknown option":           {"ptp:\n  interface: eth0\n  options:\n    ? " + strings.Repeat("y", 1<<19) + "\n    : 1\n", "not a ptp4l option"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := configs.Parse("test.yaml", []byte(c.yaml))
			if err == nil {
				var p *Plan
				p, err = Build(cfg.PTP, "/run/x.conf")
				if err == nil {
					intended(t, p)
				}
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			if len(err.Error()) > 400 {
				t.Errorf("message of %d bytes: %.200s…", len(err.Error()), err)
			}
		})
	}
}

// Whatever a file says, the generated configuration reads back (as ptp4l reads it) as exactly the
// options tsnctl meant, and the command lines have no argument more than planned.
func FuzzPtp4lConf(f *testing.F) {
	f.Add("eth0", "priority2", "128", "productDescription", "a;b;c")
	f.Add("eth0]", "uds_address", "/tmp/x", "delay_mechanism", "p2p")
	f.Add("e", "logSyncInterval", "0x3", "pi_proportional_const", "0.7")
	f.Add("eth1", "clockAccuracy", "0xfe", "userDescription", strings.Repeat("x", 1020)+"\nfree_running 0")
	f.Fuzz(func(t *testing.T, iface, k1, v1, k2, v2 string) {
		q := func(s string) string { return strconvQuote(s) }
		yaml := fmt.Sprintf("ptp:\n  interface: %s\n  options: {%s: %s, %s: %s}\n", q(iface), q(k1), q(v1), q(k2), q(v2))
		cfg, err := configs.Parse("f.yaml", []byte(yaml))
		if err != nil {
			return
		}
		p, err := Build(cfg.PTP, "/run/x.conf")
		if err != nil {
			return
		}
		intended(t, p)
		for _, a := range append(p.Ptp4lArgs, p.Phc2sysArgs...) {
			if strings.ContainsAny(a, " \t\n") {
				t.Errorf("argument %q", a)
			}
		}
	})
}

// strconvQuote writes s as a YAML double-quoted scalar (JSON's escapes are YAML's).
func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

// The option table agrees with the ptp4l on this machine: for every option, values at and beyond
// its bounds and malformed ones are accepted by tsnctl exactly when ptp4l's parser accepts them.
// ptp4l reads the file and then fails on an interface that does not exist, before it opens any
// clock; every file starts with free_running 1 all the same (and free_running itself is not varied).
func TestOptionsAgreeWithPtp4l(t *testing.T) {
	bin, err := exec.LookPath("ptp4l")
	if err != nil {
		t.Fatal("ptp4l not installed: make deps installs linuxptp")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "p.conf")
	n := 0
	for _, o := range ptp4lOptions {
		if o.name == "free_running" {
			continue
		}
		for _, v := range probeValues(o) {
			text := "[global]\nfree_running 1\n" + o.name + " " + v + "\n"
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			out, _ := exec.Command(bin, "-f", conf, "-i", "tsnctlnone0", "-S", "-q").CombinedOutput()
			ptp4lOK := !strings.Contains(string(out), "failed to parse configuration file")
			_, err := o.check(v)
			if o.kind == kindMAC && !ptp4lOK { // ptp4l reads a MAC as a string and checks it when the port opens
				t.Errorf("%s %q: refused by ptp4l's parser", o.name, v)
			} else if o.kind != kindMAC && ptp4lOK != (err == nil) {
				t.Errorf("%s %q: ptp4l accepts: %v, tsnctl: %v (ptp4l: %s)", o.name, v, ptp4lOK, err, strings.TrimSpace(string(out)))
			}
			n++
		}
	}
	t.Logf("%d option values compared with %s", n, bin)
}

func probeValues(o option) []string {
	switch o.kind {
	case kindInt:
		vs := []string{fmt.Sprintf("%.0f", o.min), fmt.Sprintf("%.0f", o.max), "x1", "1_0", "0b1"}
		if o.min > intMin {
			vs = append(vs, fmt.Sprintf("%.0f", o.min-1))
		}
		if o.max < intMax {
			vs = append(vs, fmt.Sprintf("%.0f", o.max+1), fmt.Sprintf("0x%x", int64(o.max)+1))
		}
		return vs
	case kindDouble:
		return []string{"0.5", "-1", "x", "1e-3"}
	case kindEnum:
		return append(append([]string{}, o.labels...), strings.ToLower(o.labels[0]), "bogus")
	case kindMAC:
		return []string{"01:1B:19:00:00:00"}
	}
	return nil
}

// The printed command lines survive a paste into a shell: each argument is one word, with the
// characters a shell would act on (allowed in paths and interface names) quoted.
func TestPrintedCommandsAreQuoted(t *testing.T) {
	p, err := Build(load(t, "ptp:\n  interface: \"e;id\"\n"), "/run/p;x$(id)")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	p.WriteDryRun(&b, p.Ptp4lArgs[1])
	for _, c := range p.Commands() {
		prog, args, _ := strings.Cut(c, " ")
		out, err := exec.Command("bash", "-c", "set -f; printf '%s\\n' "+args).CombinedOutput()
		want := p.Ptp4lArgs
		if prog == "phc2sys" {
			want = p.Phc2sysArgs
		}
		if err != nil || strings.TrimSuffix(string(out), "\n") != strings.Join(want, "\n") {
			t.Errorf("%q: bash reads %q (%v), want %q", c, out, err, want)
		}
	}
	if !strings.Contains(b.String(), `-s '/run/p;x$(id)/ptp4l' 'GET TIME_STATUS_NP'`) {
		t.Errorf("pmc line not quoted:\n%s", b.String())
	}
}
