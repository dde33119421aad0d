package configs

import "embed"

// Examples holds the example configurations of this directory (seed.yaml, …), for tests and docs.
//
//go:embed *.yaml
var Examples embed.FS
