package extack_test

import (
	"fmt"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/tsnctl/tsnctl/internal/extack"
	"golang.org/x/sys/unix"
)

func TestSplit(t *testing.T) {
	oe := &netlink.OpError{Op: "receive", Err: unix.EINVAL, Message: "requested channel count exceeds maximum", Offset: 32}
	for name, tc := range map[string]struct {
		err    error
		errno  error
		msg    string
		offset int
	}{
		"extended ACK":         {oe, unix.EINVAL, "requested channel count exceeds maximum", 32},
		"wrapped extended ACK": {fmt.Errorf("execute: %w", oe), unix.EINVAL, "requested channel count exceeds maximum", 32},
		"no extended ACK":      {unix.ENOENT, unix.ENOENT, "", 0},
	} {
		t.Run(name, func(t *testing.T) {
			errno, msg, offset := extack.Split(tc.err)
			if errno != tc.errno || msg != tc.msg || offset != tc.offset {
				t.Errorf("Split(%v) = %v, %q, %d", tc.err, errno, msg, offset)
			}
		})
	}
}
