package node

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/nic"
)

// argv pastes a printed command into bash with its program replaced by printf, and returns the
// words bash hands the program. A name the printer did not quote would run something else (the
// names below make that a harmless "command not found", and a different word list).
func argv(t *testing.T, command string) []string {
	t.Helper()
	out, err := exec.Command("bash", "-c", "set -f; printf '%s\\n' "+command).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v: %s", err, out)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// Names the kernel accepts (dev_valid_name allows ';', '$', '|', quotes) reach the printed
// commands as one word each, and the namespace too.
func TestPrintedCommandsQuoteNames(t *testing.T) {
	for _, name := range []string{"e;id", "$(id)", "`id`", "a|b", "x'y", `q"`, "&bg", "*", "ok0"} {
		w := seedWants(t, 1000*ms)[0]
		w.Name = name
		w.VLANs[0].Name = name + "v"
		fresh := &Live{Name: name, Ifindex: 3, Channels: nic.Channels{Combined: 2, CombinedMax: 8}}
		for _, netns := range []string{"", "n;s"} {
			for _, st := range Plan(w, fresh, netns) {
				words := argv(t, st.Command)
				joined := "\x00" + strings.Join(words, "\x00") + "\x00"
				if !strings.Contains(joined, "\x00"+name+"\x00") {
					t.Errorf("%q in %q: bash reads %q", name, st.Command, words)
				}
				if netns != "" && !strings.Contains(joined, "\x00"+netns+"\x00") {
					t.Errorf("namespace %q in %q: bash reads %q", netns, st.Command, words)
				}
			}
		}
	}
}
