package plan

import "github.com/tsnctl/tsnctl/configs"

// Load reads a configuration file as every command takes one: parsed strictly (configs.Load),
// then its streams planned into their interfaces' schedules (Expand). lint, apply, show, the agent
// and fleet check all read configurations through Load or Parse.
func Load(path string) (*configs.Config, error) {
	c, err := configs.Load(path)
	if err != nil {
		return nil, err
	}
	out, _, err := Expand(c)
	return out, err
}

// Parse is Load for a configuration in memory; name is used in error messages.
func Parse(name string, data []byte) (*configs.Config, error) {
	c, err := configs.Parse(name, data)
	if err != nil {
		return nil, err
	}
	out, _, err := Expand(c)
	return out, err
}
