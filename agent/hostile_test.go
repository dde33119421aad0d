package agent

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/ptp/watch"
)

// A status file is input too (it may be written by anyone who can write its directory): tsnctl
// status prints its strings with their control characters made visible.
func TestStatusTextEscapesControlCharacters(t *testing.T) {
	const title, clear = "\x1b]0;pwned\x07", "\x1b[2J"
	st := &Status{PID: 1, Started: time.Now(), File: "/etc/" + clear + "x.yaml", ConfigHash: title, NotReady: clear,
		Interfaces: []Iface{{Name: "eth" + title, State: State(clear), Reason: title + "reason"}, {Name: "eth1", State: Configured, LastDrift: clear + "drift"}},
		Sync:       &watch.Status{State: clear, GMIdentity: title},
		LastError:  "eth0: " + title + clear}
	var b bytes.Buffer
	st.WriteText(&b, true)
	if strings.ContainsAny(b.String(), "\x1b\x07") {
		t.Errorf("raw control characters in tsnctl status:\n%q", b.String())
	}
	for _, want := range []string{`eth\x1b]0;pwned\a`, `\x1b]0;pwned\areason`, `\x1b[2Jdrift`, `eth0: \x1b]0;pwned\a\x1b[2J`, `/etc/\x1b[2Jx.yaml`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
}
