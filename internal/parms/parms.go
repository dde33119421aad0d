// Package parms encodes and decodes the options of qdiscs whose TCA_OPTIONS is one attribute
// carrying a fixed C struct (etf's TCA_ETF_PARMS, cbs's TCA_CBS_PARMS), for the codec packages.
package parms

import (
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
)

// Encode returns the options: attribute typ carrying v (a fixed-size struct) in the machine's
// byte order. kind names the qdisc in errors.
func Encode(kind string, typ uint16, v any) ([]byte, error) {
	b, err := binary.Append(nil, binary.NativeEndian, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(typ, b)
	return ae.Encode()
}

// Decode fills v (a pointer to a fixed-size struct) from attribute typ of options b, as the
// kernel dumps them; a missing or short attribute is an error naming kind and the attribute.
func Decode(kind, attr string, typ uint16, b []byte, v any) error {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	found := false
	for ad.Next() {
		if ad.Type() != typ {
			continue
		}
		p := ad.Bytes()
		if n := binary.Size(v); len(p) < n {
			return fmt.Errorf("%s: parameters are %d bytes, want %d", kind, len(p), n)
		}
		if _, err := binary.Decode(p, binary.NativeEndian, v); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		found = true
	}
	if err := ad.Err(); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if !found {
		return fmt.Errorf("%s: no %s in the options", kind, attr)
	}
	return nil
}
