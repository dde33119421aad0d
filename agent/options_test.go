package agent

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The full verification is the safety net, not a busy loop: an interval below a second (1ns spun
// the loop) or negative (it silently became 30s) is refused before anything is touched.
func TestVerifyEveryIsRefusedBelowASecond(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []time.Duration{time.Nanosecond, 999 * time.Millisecond, -5 * time.Second} {
		a := New(Options{File: filepath.Join(dir, "none.yaml"), StatusPath: filepath.Join(dir, "status.json"), VerifyEvery: d})
		err := a.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "verify-every "+d.String()+": want at least 1s (the full verification interval); e.g. verify-every 30s") {
			t.Errorf("VerifyEvery %v: %v", d, err)
		}
	}
}
