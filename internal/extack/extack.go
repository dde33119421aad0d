// Package extack reads the kernel's extended acknowledgement (NETLINK_EXT_ACK) out of a failed
// netlink request, for the packages that wrap such failures in errors of their own (qdisc, nic).
package extack

import (
	"errors"

	"github.com/mdlayher/netlink"
)

// Split returns the errno of a failed request with the kernel's extended-ACK message and the
// offset of the attribute it refused (bytes from the start of the request's netlink header; 0:
// none named): those of the *netlink.OpError in err's chain, or err itself, "" and 0 if there is
// none.
func Split(err error) (errno error, message string, offset int) {
	var oe *netlink.OpError
	if errors.As(err, &oe) {
		return oe.Err, oe.Message, oe.Offset
	}
	return err, "", 0
}
