package ifname

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	// The kernel takes ';' and '$': printed commands quote names (see node and ptp).
	for _, good := range []string{"eth1", "eth1.3", "enp3s0f1", "v0", "a-b_c@d", strings.Repeat("x", 15), "é", "eth0;rm", "$x"} {
		if err := Check(good); err != nil {
			t.Errorf("%q refused: %v", good, err)
		}
	}
	for bad, why := range map[string]string{
		"":                      "empty",
		strings.Repeat("x", 16): "16 bytes",
		strings.Repeat("é", 8):  "16 bytes", // 8 characters, 16 bytes
		".":                     "not names",
		"..":                    "not names",
		"x/../../../../tmp/pwn": "21 bytes",
		"../../t/pwn":           "'/'",
		"a b":                   "white space",
		"eth0]\n[global]":       "white space",
		"eth0:1":                "':'",
		"a\tb":                  "white space",
		"a\x00b":                "control",
		"\xff":                  "UTF-8",
		"eth0; rm -rf /x":       "white space",
	} {
		err := Check(bad)
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v, want an error saying %q", bad, err, why)
		}
	}
	var n Name
	if err := n.UnmarshalText([]byte("eth1")); err != nil || n != "eth1" {
		t.Errorf("UnmarshalText: %q %v", n, err)
	}
	if err := n.UnmarshalText([]byte("a/b")); err == nil || n != "eth1" {
		t.Errorf("UnmarshalText of a bad name: %q %v (the old value must stay)", n, err)
	}
}
