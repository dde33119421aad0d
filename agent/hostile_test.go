package agent

import (
	"bytes"
	"os"
	"path/filepath"
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

// FuzzReadStatus: whatever an agent status file holds, ReadStatus returns a status or an error,
// never panics, and what `tsnctl status` prints of it has no control character but newlines.
func FuzzReadStatus(f *testing.F) {
	f.Add([]byte(`{"pid":1,"started":"2026-01-01T00:00:00Z","ready":false,"not_ready":"\u001b[2J","interfaces":[{"name":"eth1\u0007","state":"x\u009b"}],"sync":{"state":"\u001b]0;t\u0007"}}`))
	f.Add([]byte(`{"pid":-1,"started":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"pid":1,"started":"2026-01-01T00:00:00Z","reloads":-9223372036854775808}`))
	f.Add([]byte("\xff"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "status.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := ReadStatus(path)
		if err != nil {
			return
		}
		var out strings.Builder
		st.WriteText(&out, false)
		if i := strings.IndexFunc(out.String(), func(r rune) bool { return r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) }); i >= 0 {
			t.Fatalf("a control character reaches the terminal at %d:\n%q", i, out.String())
		}
	})
}
