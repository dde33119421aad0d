// Package termsafe makes untrusted strings (from a log, a status file, the kernel) safe to print on
// a terminal: control characters are shown as Go escapes (\x1b, \a, \n, \u009b), so that a hostile
// string cannot move the cursor, clear the screen, retitle the window or forge lines of output.
package termsafe

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// String returns s with every control character escaped as strconv.Quote escapes it: C0
// (U+0000-U+001F, tab and newline included), DEL and C1 (U+0080-U+009F), so an escape sequence
// loses its ESC (or CSI) and prints as text. A byte that is not UTF-8 is shown as \xNN (a lone
// 0x9b is CSI to a terminal not in UTF-8 mode). Anything else, backslashes included, is unchanged.
func String(s string) string {
	i := unsafeAt(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case control(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func control(r rune) bool { return r < 0x20 || r >= 0x7f && r < 0xa0 }

// unsafeAt is the index of s's first byte that String changes, or -1.
func unsafeAt(s string) int {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || control(r) {
			return i
		}
		i += n
	}
	return -1
}

// IndexControl is the index of the first byte of s, other than a newline, that a terminal would
// act on (a control character, or a byte that is not UTF-8), or -1: text tsnctl prints line by
// line must have none. Tests of printed output use it.
func IndexControl(s string) int {
	off := 0
	for line := range strings.SplitSeq(s, "\n") {
		if i := unsafeAt(line); i >= 0 {
			return off + i
		}
		off += len(line) + 1
	}
	return -1
}
