package nic

import "github.com/mdlayher/genetlink"

// NewEthtoolOver is an Ethtool on c, for the examples, whose kernel is a recording (nlmon.Play):
// DialEthtool is the only way to an Ethtool outside the package.
func NewEthtoolOver(c *genetlink.Conn) (*Ethtool, error) { return newEthtool(c) }
