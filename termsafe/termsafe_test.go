package termsafe

import "testing"

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"\x1b]0;pwned\x07", `\x1b]0;pwned\a`},         // retitle the window
		{"\x1b[2J", `\x1b[2J`},                         // clear the screen
		{"eth0\r\nforged line", `eth0\r\nforged line`}, // forge a line
		{"tab\there", `tab\there`},
		{"\x00\x7f", `\x00\x7f`},
		{"csi \u009b2J", `csi \u009b2J`}, // C1 CSI, UTF-8
		{"lone \x9b2J", `lone \x9b2J`},   // C1 CSI as a byte (not UTF-8)
		{"plain eth0.3 µs ü 時", "plain eth0.3 µs ü 時"},
		{`back\slash`, `back\slash`},
		{"", ""},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStringDoesNotAllocateForSafeText(t *testing.T) {
	s := "eth0: no such interface"
	if n := testing.AllocsPerRun(100, func() { _ = String(s) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func TestIndexControl(t *testing.T) {
	for s, want := range map[string]int{"": -1, "a\nb\n": -1, "ok\n\x1b[2J": 3, "a\tb": 1, "é\u009b": 2, "x\n\xff": 2, `\x1b`: -1} {
		if got := IndexControl(s); got != want {
			t.Errorf("IndexControl(%q) = %d, want %d", s, got, want)
		}
	}
}
