package configs

import "github.com/tsnctl/tsnctl/ifname"

// PTP is the `ptp:` section: how `tsnctl ptp run` starts ptp4l and phc2sys on this node and when
// it calls the node's time trustworthy. Package ptp turns it into linuxptp configuration.
type PTP struct {
	// Interface is the port ptp4l runs on (its PHC is the one phc2sys reads).
	Interface ifname.Name `yaml:"interface" json:"interface"`
	// Profile chooses the defaults: gptp (802.1AS, as the seed's ptp4l-node.cfg; the default).
	Profile string `yaml:"profile,omitempty" json:"profile,omitempty"`
	// Role: slave (the default: gmCapable 0, phc2sys steers the system clock from the PHC) or
	// grandmaster (gmCapable 1, priority1 100; phc2sys keeps the PHC on the system clock).
	Role string `yaml:"role,omitempty" json:"role,omitempty"`
	// Domain is the PTP domain number (domainNumber), 0 by default.
	Domain *uint8 `yaml:"domain,omitempty" json:"domain,omitempty"`
	// Timestamping: hardware (the default, ptp4l -H) or software (ptp4l -S: no PHC, ptp4l steers
	// the system clock itself and phc2sys is not run).
	Timestamping string `yaml:"timestamping,omitempty" json:"timestamping,omitempty"`
	// Options overrides ptp4l options of the [global] section by their linuxptp names, e.g.
	// {neighborPropDelayThresh: 20000, delayAsymmetry: 200000}.
	Options map[string]string `yaml:"options,omitempty" json:"options,omitempty"`
	// Phc2sys runs phc2sys (default: true with hardware timestamping).
	Phc2sys *bool `yaml:"phc2sys,omitempty" json:"phc2sys,omitempty"`
	// Sync is when the node counts as in sync.
	Sync *SyncPolicy `yaml:"sync,omitempty" json:"sync,omitempty"`
	Pos  `yaml:"-" json:"-"`
}

// SyncPolicy holds the thresholds of the sync state machine (package ptp/syncstate).
type SyncPolicy struct {
	// OffsetThreshold: |offset from master| above it makes a sample bad (default 100ns).
	OffsetThreshold Duration `yaml:"offset-threshold,omitempty" json:"offset-threshold,omitempty"`
	// LockSamples good samples in a row make the node LOCKED (default 8).
	LockSamples int `yaml:"lock-samples,omitempty" json:"lock-samples,omitempty"`
	// Holdover is how long a LOCKED node stays in HOLDOVER after losing sync before FREERUN
	// (default 10s).
	Holdover Duration `yaml:"holdover,omitempty" json:"holdover,omitempty"`
	// PollInterval between queries of ptp4l (default 250ms).
	PollInterval Duration `yaml:"poll-interval,omitempty" json:"poll-interval,omitempty"`
	// PHCOffsetThreshold: |system clock − PHC| above it (when phc2sys runs) makes a sample bad
	// (default 1us).
	PHCOffsetThreshold Duration `yaml:"phc-offset-threshold,omitempty" json:"phc-offset-threshold,omitempty"`
	Pos                `yaml:"-" json:"-"`
}

// Suggest proposes the known name closest to a misspelt one: ` (did you mean "x"?)`, or "".
func Suggest(got string, known []string) string { return suggest(got, known) }
