package param

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		plain  string
		flags  string
		unwrap error
	}{
		{"value", Errorf("cycle", "0s", "must be positive, e.g. 2ms"), "cycle 0s: must be positive, e.g. 2ms", "--interval 0s: must be positive, e.g. 2ms", nil},
		{"no value", Errorf("iface", nil, "{raw} needs it"), "iface: raw needs it", "--iface: --raw needs it", nil},
		{"wrapped cause", Errorf("dest", "x:1", "cannot resolve the host: %w", io.EOF), "dest x:1: cannot resolve the host: EOF", "--dest x:1: cannot resolve the host: EOF", io.EOF},
		{"braces that are no reference", Errorf("sla", "a", "want {x y}, {} or {count}"), "sla a: want {x y}, {} or count", "--sla a: want {x y}, {} or --count", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.plain {
				t.Errorf("plain %q, want %q", got, tc.plain)
			}
			wrapped := Rename(fmt.Errorf("send: %w", tc.err), func(n string) string {
				if n == "cycle" {
					return "--interval"
				}
				return "--" + n
			})
			if got := wrapped.Error(); got != "send: "+tc.flags {
				t.Errorf("renamed %q, want %q", got, "send: "+tc.flags)
			}
			var pe *Error
			if !errors.As(wrapped, &pe) || tc.unwrap != nil && !errors.Is(wrapped, tc.unwrap) {
				t.Errorf("does not unwrap to %v", tc.unwrap)
			}
		})
	}
	if err := Rename(io.EOF, func(string) string { return "x" }); err != io.EOF {
		t.Errorf("a foreign error changed: %v", err)
	}
}
