package kube

import (
	"encoding/json"
	"fmt"
	"github.com/tsnctl/tsnctl/agent"
	"maps"
	"slices"
	"strings"

	"github.com/tsnctl/tsnctl/configs"
)

// ConfigFor returns the configuration c gives node: spec.config, with the node's offset from
// spec.offsets as every taprio's base-time-offset. An offset for a node whose configuration has
// streams is refused: plan writes their interfaces' schedules, and takes no offset yet.
func (c *TSNConfig) ConfigFor(node string) ([]byte, error) {
	off, ok := c.Spec.Offsets[node]
	if !ok {
		return c.Spec.Config, nil
	}
	if _, err := configs.ParseDuration(off); err != nil {
		return nil, fmt.Errorf("TSNConfig %s: spec.offsets.%s = %q: %v (a duration such as 250us)", c.Name, node, off, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(c.Spec.Config, &doc); err != nil {
		return nil, fmt.Errorf("TSNConfig %s: spec.config: %w", c.Name, err)
	}
	ifaces, _ := doc["interfaces"].([]any)
	for _, i := range ifaces {
		if t, ok := i.(map[string]any)["taprio"].(map[string]any); ok {
			t["base-time-offset"] = off
		}
	}
	// An interface that carries streams gets its taprio from plan, which takes no offset yet: the
	// node's offset would be lost, and the fleet check would judge a phase nobody asked for.
	streams, _ := doc["streams"].([]any)
	for _, s := range streams {
		if name, ok := s.(map[string]any)["interface"].(string); ok {
			return nil, fmt.Errorf("TSNConfig %s: spec.offsets.%s: the node's interface %s carries streams, and planned schedules take no offset yet: remove the node's offset", c.Name, node, name)
		}
	}
	return json.Marshal(doc)
}

// FleetNode is a node as the fleet check sees it.
type FleetNode struct {
	Name   string
	Labels map[string]string
}

// FleetRow is one node's schedule on one interface, as tsnctl fleet check shows it.
type FleetRow struct {
	Node      string `json:"node"`
	Config    string `json:"tsnconfig,omitempty"`
	Interface string `json:"interface,omitempty"`
	CycleNs   int64  `json:"cycle_ns,omitempty"`
	BaseTime  string `json:"base_time,omitempty"` // auto, or TAI ns
	OffsetNs  int64  `json:"offset_ns"`           // declared (base-time-offset)
	PhaseNs   int64  `json:"phase_ns"`            // where the cycle starts, modulo the cycle
	Problem   string `json:"problem,omitempty"`
}

// CheckFleet verifies that the fleet's schedules agree: every node that runs a taprio takes exactly
// one TSNConfig, all run the same cycle (the one most of them run), and each one's cycles start
// at its declared offset (base-time-offset) from the fleet's common phase: base-time auto starts
// on a multiple of the cycle (all nodes alike, given synchronised clocks), a given base-time at
// that time modulo the cycle. Nodes no TSNConfig selects are left out.
//
// Each node's configuration is judged as its agent judges it (agent.Check: parsed, linted, its ptp
// section built): one its agent would refuse is that node's problem. A fleet in which no node takes
// a TSNConfig is an error: nothing would have been checked.
func CheckFleet(cfgs []TSNConfig, nodes []FleetNode) ([]FleetRow, error) {
	var rows []FleetRow
	for _, n := range nodes {
		c, err := Select(cfgs, n.Name, n.Labels)
		if err == ErrNoConfig {
			continue
		}
		if err != nil {
			rows = append(rows, FleetRow{Node: n.Name, Problem: err.Error()})
			continue
		}
		rows = append(rows, scheduleRows(c, n.Name)...)
	}
	// The fleet's cycle: the one most nodes run (the shortest, of equally many).
	count := map[int64]int{}
	for _, r := range rows {
		if r.Problem == "" {
			count[r.CycleNs]++
		}
	}
	var cycle int64
	for _, c := range slices.Sorted(maps.Keys(count)) {
		if count[c] > count[cycle] {
			cycle = c
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("nothing to check: no node takes a TSNConfig (%d TSNConfigs, %d nodes read); give the Nodes too (kubectl get tsnconfigs,nodes -o yaml)", len(cfgs), len(nodes))
	}
	for i := range rows {
		r := &rows[i]
		switch {
		case r.Problem != "":
		case r.CycleNs != cycle:
			r.Problem = fmt.Sprintf("cycle %s, the fleet's is %s", configs.Duration(r.CycleNs), configs.Duration(cycle))
		case r.PhaseNs != r.OffsetNs%cycle:
			r.Problem = fmt.Sprintf("its cycles start %s into the fleet's, not at its offset %s: base-time %s is %s past a cycle boundary",
				configs.Duration(r.PhaseNs), configs.Duration(r.OffsetNs), r.BaseTime, configs.Duration((r.PhaseNs-r.OffsetNs%cycle+cycle)%cycle))
		}
	}
	return rows, nil
}

// scheduleRows reads the taprio schedules c gives node.
func scheduleRows(c *TSNConfig, node string) []FleetRow {
	row := FleetRow{Node: node, Config: c.Name}
	data, err := c.ConfigFor(node)
	var cfg *configs.Config
	if err == nil {
		cfg, _, err = agent.Check("TSNConfig "+c.Name, data)
	}
	if err != nil {
		row.Problem = strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n  ", "; ")), " ")
		return []FleetRow{row}
	}
	var rows []FleetRow
	for _, ci := range cfg.Interfaces {
		t := ci.Taprio
		if t == nil {
			continue
		}
		r := row
		r.Interface = string(ci.Name)
		for _, e := range t.Schedule {
			r.CycleNs += int64(e.Interval)
		}
		if t.CycleTime != nil {
			r.CycleNs = int64(*t.CycleTime)
		}
		if t.BaseTimeOffset != nil {
			r.OffsetNs = int64(*t.BaseTimeOffset)
		}
		base := int64(0)
		r.BaseTime = "auto"
		if !t.BaseTime.Auto {
			base, r.BaseTime = t.BaseTime.NS, fmt.Sprint(t.BaseTime.NS)
		}
		if r.CycleNs <= 0 {
			r.Problem = "no cycle (an empty schedule)"
		} else {
			r.PhaseNs = (base + r.OffsetNs) % r.CycleNs
		}
		rows = append(rows, r)
	}
	return rows
}
