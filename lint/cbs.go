package lint

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tsnctl/tsnctl/cbs"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/frame"
)

// The credit-based shapers (cbs:) of an interface: where they sit, their credits, and what the
// kernel's shaper makes of them at the link's speed. CBSOptions is the one conversion of the file's
// entries into the kernel's numbers: lint's rules judge with it, and tsnctl apply and the agent
// install what it returns.

// DefaultCBSFrame is a cbs: entry's max-frame and max-interference when none is given: a full
// 802.1Q-tagged frame with a 1500-byte MTU, header to FCS.
const DefaultCBSFrame = frame.Header + frame.Tag + 1500 + frame.FCS

// cbsDerived reports whether the entry leaves its credits to tsnctl (none of sendslope, hicredit,
// locredit given).
func cbsDerived(c *configs.CBS) bool {
	return c.SendSlope == nil && c.HiCredit == nil && c.LoCredit == nil
}

func cbsFrame(p *int64) int64 {
	if p == nil {
		return int64(frame.Untagged(DefaultCBSFrame))
	}
	return int64(frame.Untagged(int(*p)))
}

// derivedCBS lists the entries of ifc whose credits tsnctl derives, by TX queue: the lowest queue
// is the highest-priority class (A), as on NICs whose lowest queue is served first (i210, i225).
func derivedCBS(ifc *configs.Interface) []int {
	var js []int
	for j := range ifc.CBS {
		if cbsDerived(&ifc.CBS[j]) && ifc.CBS[j].Queue != nil && ifc.CBS[j].IdleSlope != nil {
			js = append(js, j)
		}
	}
	slices.SortStableFunc(js, func(a, b int) int { return *ifc.CBS[a].Queue - *ifc.CBS[b].Queue })
	return js
}

// CBSOptions turns ifc's cbs: entries into the kernel's options, by TX queue, for a link of
// speedMbps as the driver reports it (0: it reports none; the kernel's shaper then assumes 10 Mb/s).
// An entry with all four numbers is taken as written; the others' credits are derived (cbs.Derive)
// from their idleslope, max-frame and the largest max-interference among them. It fails on what
// the cbs-credits rule refuses; a configuration lint passed at this speed converts.
func CBSOptions(ifc *configs.Interface, speedMbps int) (map[int]cbs.Options, error) {
	out := map[int]cbs.Options{}
	for _, c := range ifc.CBS {
		if c.Queue == nil || c.IdleSlope == nil {
			return nil, fmt.Errorf("a cbs: entry without queue or idleslope")
		}
		if cbsDerived(&c) {
			continue
		}
		if c.SendSlope == nil || c.HiCredit == nil || c.LoCredit == nil {
			return nil, fmt.Errorf("cbs: on queue %d gives some of sendslope, hicredit and locredit: give all three or none", *c.Queue)
		}
		o := cbs.Options{IdleSlope: int32(*c.IdleSlope), SendSlope: int32(*c.SendSlope), HiCredit: int32(*c.HiCredit), LoCredit: int32(*c.LoCredit),
			Offload: c.Offload == configs.OffloadTrue || c.Offload == configs.OffloadAuto}
		out[*c.Queue] = o
	}
	js := derivedCBS(ifc)
	if len(js) == 0 {
		return out, nil
	}
	var classes []cbs.Class
	interference := int64(0)
	for _, j := range js {
		c := &ifc.CBS[j]
		classes = append(classes, cbs.Class{IdleSlope: *c.IdleSlope, MaxFrame: cbsFrame(c.MaxFrame)})
		interference = max(interference, cbsFrame(c.MaxInterference))
	}
	os, err := cbs.Derive(cbs.PortKbps(speedMbps), interference, classes...)
	if err != nil {
		return nil, err
	}
	for i, j := range js {
		c := &ifc.CBS[j]
		os[i].Offload = c.Offload == configs.OffloadTrue || c.Offload == configs.OffloadAuto
		out[*c.Queue] = os[i]
	}
	return out, nil
}

// speedOf is the link speed lint judges ifc at: the facts' (taprio and cbs assume 10 Mb/s for a
// driver that reports none), or 1000 Mb/s when the facts do not say; known is false then, and rules
// that would refuse a configuration by the speed leave it to the node (--live, apply, the agent).
func (r *run) speedOf(ifc *configs.Interface) (mbps int, note string, known bool) {
	if r.facts.SpeedUnknown[string(ifc.Name)] {
		return 10, " (the driver reports no link speed, e.g. link down: the kernel then assumes 10 Mb/s)", true
	}
	if s, ok := r.facts.SpeedMbps[string(ifc.Name)]; ok && s > 0 {
		return s, "", true
	}
	return configs.DefaultSpeedMbps, " (assumed: lint --live reads the link's)", false
}

func cbsQueue(r *run, ifc *configs.Interface, path string) {
	rt := rootOf(ifc)
	etfOn := map[int]bool{}
	for _, e := range ifc.ETF {
		if e.Queue != nil {
			etfOn[*e.Queue] = true
		}
	}
	used := map[int]bool{}
	for j, c := range ifc.CBS {
		p := fmt.Sprintf("%s.cbs[%d]", path, j)
		if r.childQueue(rt, "cbs", c.Pos, p, c.Queue, used) && etfOn[*c.Queue] {
			r.add(c.Pos, "queue", p+".queue", fmt.Sprint(*c.Queue), "an etf: sits on this queue too; a queue has one child qdisc (ETF under CBS is not supported)",
				"put the cbs and the etf on different queues")
		}
	}
}

func cbsCredits(r *run, ifc *configs.Interface, path string) {
	speed, note, known := r.speedOf(ifc)
	port := cbs.PortKbps(speed)
	in32 := func(v int64) bool { return v >= math.MinInt32 && v <= math.MaxInt32 }
	ok := true
	for j, c := range ifc.CBS {
		p := fmt.Sprintf("%s.cbs[%d]", path, j)
		bad := func(key, value, msg, fix string) {
			r.add(c.Pos, key, p+"."+key, value, msg, fix)
			ok = false
		}
		switch {
		case c.IdleSlope == nil:
			bad("idleslope", "", "missing: the bandwidth reserved for the class, in kbit/s", "e.g. idleslope: 20000 (20 Mbit/s)")
		case *c.IdleSlope <= 0 || !in32(*c.IdleSlope):
			bad("idleslope", fmt.Sprint(*c.IdleSlope), "must be positive, in kbit/s (and fit the kernel's 32 bits)", "e.g. idleslope: 20000 (20 Mbit/s)")
		case known && *c.IdleSlope >= port:
			bad("idleslope", fmt.Sprint(*c.IdleSlope), fmt.Sprintf("not below the port's rate, %d kbit/s at %d Mb/s%s", port, speed, note), "reserve less than the link's speed")
		}
		if cbsDerived(&c) {
			for _, f := range []struct {
				key string
				v   *int64
			}{{"max-frame", c.MaxFrame}, {"max-interference", c.MaxInterference}} {
				if f.v != nil && (*f.v < frame.Min || *f.v > 65535) {
					bad(f.key, fmt.Sprint(*f.v), fmt.Sprintf("a frame size in bytes, header to FCS, from %d to 65535", frame.Min), fmt.Sprintf("e.g. %s: %d", f.key, DefaultCBSFrame))
				}
			}
			continue
		}
		if c.MaxInterference != nil {
			bad("max-interference", fmt.Sprint(*c.MaxInterference), "only used to derive credits, and this entry gives its own", "remove max-interference, or sendslope, hicredit and locredit")
		}
		if c.SendSlope == nil || c.HiCredit == nil || c.LoCredit == nil {
			key := "sendslope"
			if c.SendSlope == nil {
				key = map[bool]string{true: "hicredit", false: "locredit"}[c.HiCredit != nil]
			}
			bad(key, "", "gives some of sendslope, hicredit and locredit: give all three, as tc takes them, or none and tsnctl derives them from idleslope and the link speed",
				"remove sendslope, hicredit and locredit, or give all three")
			continue
		}
		switch {
		case *c.SendSlope >= 0 || !in32(*c.SendSlope):
			bad("sendslope", fmt.Sprint(*c.SendSlope), "must be negative, in kbit/s: idleslope minus the port's rate", fmt.Sprintf("sendslope: %d", min(-1, valueOr(c.IdleSlope)-port)))
		case *c.HiCredit < 0 || !in32(*c.HiCredit):
			bad("hicredit", fmt.Sprint(*c.HiCredit), "must not be negative, in bytes", "remove the credits and let tsnctl derive them")
		case *c.LoCredit > 0 || !in32(*c.LoCredit):
			bad("locredit", fmt.Sprint(*c.LoCredit), "must not be positive, in bytes", "remove the credits and let tsnctl derive them")
		}
	}
	js := derivedCBS(ifc)
	if !ok || len(js) == 0 || slices.ContainsFunc(ifc.CBS, func(c configs.CBS) bool { return c.Queue == nil }) {
		return // a cbs without a queue is cbs-queue's
	}
	if len(js) > cbs.MaxClasses {
		c := ifc.CBS[js[cbs.MaxClasses]]
		r.add(c.Pos, "idleslope", fmt.Sprintf("%s.cbs[%d]", path, js[cbs.MaxClasses]), fmt.Sprintf("%d classes", len(js)),
			fmt.Sprintf("tsnctl derives credits for %d classes per port (802.1Q's A and B, the lowest queues first)", cbs.MaxClasses),
			"give this class's sendslope, hicredit and locredit")
		return
	}
	if !known {
		return // the reservations are judged against the port's rate on the node (--live, apply, the agent)
	}
	if _, err := CBSOptions(ifc, speed); err != nil {
		j := js[0]
		if ce, ok := errors.AsType[*cbs.ClassError](err); ok && ce.Class < len(js) {
			j = js[ce.Class]
		}
		c := ifc.CBS[j]
		r.add(c.Pos, "idleslope", fmt.Sprintf("%s.cbs[%d].idleslope", path, j), fmt.Sprint(*c.IdleSlope), err.Error()+note, "reserve less")
	}
}

func valueOr(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// cbsReservation: 802.1Q lets the credit-based classes of a port reserve 75 % of it by default.
func cbsReservation(r *run, ifc *configs.Interface, path string) {
	speed, note, known := r.speedOf(ifc)
	if !known {
		return
	}
	port := cbs.PortKbps(speed)
	var sum int64
	for _, c := range ifc.CBS {
		if c.IdleSlope != nil && *c.IdleSlope > 0 {
			sum += *c.IdleSlope
		}
	}
	if len(ifc.CBS) > 0 && sum*100 > port*cbs.MaxReservedPercent && sum < port*2 {
		c := ifc.CBS[len(ifc.CBS)-1]
		r.add(c.Pos, "idleslope", path+".cbs", fmt.Sprintf("%d kbit/s", sum),
			fmt.Sprintf("the classes reserve %.1f %% of the port's %d kbit/s%s, over the %d %% 802.1Q allows credit-based classes by default: best effort may starve",
				float64(sum)*100/float64(port), port, note, cbs.MaxReservedPercent), "reserve less, or accept it knowingly")
	}
}

// cbsSlopes: the kernel's software shaper charges each frame len × sendslope / its port rate, so
// a sendslope other than idleslope minus that rate gives the class another bandwidth than
// idleslope; and a locredit above what a largest frame costs forgives part of that cost.
func cbsSlopes(r *run, ifc *configs.Interface, path string) {
	speed, note, known := r.speedOf(ifc)
	port := cbs.PortKbps(speed)
	for j, c := range ifc.CBS {
		if cbsDerived(&c) || c.IdleSlope == nil || c.SendSlope == nil || c.LoCredit == nil || *c.IdleSlope <= 0 || *c.SendSlope >= 0 {
			continue
		}
		p := fmt.Sprintf("%s.cbs[%d]", path, j)
		if want := *c.IdleSlope - port; known && *c.SendSlope != want {
			// Per frame of L bytes: L/port to send, then L×|sendslope|/port/idleslope to earn its
			// cost back: the class sends L per L/port × (1 + |sendslope|/idleslope).
			got := float64(port) / (1 + float64(-*c.SendSlope)/float64(*c.IdleSlope))
			r.add(c.Pos, "sendslope", p+".sendslope", fmt.Sprint(*c.SendSlope),
				fmt.Sprintf("is not idleslope minus the port's rate (%d kbit/s at %d Mb/s%s): the kernel's shaper then gives the class %.0f kbit/s, not idleslope's %d",
					port, speed, note, got, *c.IdleSlope),
				fmt.Sprintf("sendslope: %d, or leave the credits to tsnctl", want))
		}
		m := *c.SendSlope * cbsFrame(c.MaxFrame)
		if lo := int64(math.Floor(float64(m) / float64(port))); *c.LoCredit > lo {
			r.add(c.Pos, "locredit", p+".locredit", fmt.Sprint(*c.LoCredit),
				fmt.Sprintf("a largest frame (max-frame %d bytes, %d on the wire) costs %d bytes of credit at %d Mb/s%s: a higher locredit forgives the rest, and the class gets more than idleslope",
					cbsFrameBytes(c.MaxFrame), cbsFrame(c.MaxFrame), lo, speed, note),
				fmt.Sprintf("locredit: %d, or leave the credits to tsnctl", lo))
		}
	}
}

func cbsFrameBytes(p *int64) int64 {
	if p == nil {
		return DefaultCBSFrame
	}
	return *p
}

// cbsMap: a cbs on a queue whose traffic class no priority maps to shapes nothing.
func cbsMap(r *run, ifc *configs.Interface, path string) {
	rt := rootOf(ifc)
	if rt == nil {
		return
	}
	used := rt.used()
	for j, c := range ifc.CBS {
		if c.Queue == nil {
			continue
		}
		var classes []int
		for tc, q := range rt.queues {
			if *c.Queue >= int(q.Offset) && *c.Queue < int(q.Offset)+int(q.Count) {
				classes = append(classes, tc)
			}
		}
		if len(classes) > 0 && !slices.ContainsFunc(classes, func(tc int) bool { return used[tc] }) {
			r.add(c.Pos, "queue", fmt.Sprintf("%s.cbs[%d].queue", path, j), fmt.Sprint(*c.Queue),
				fmt.Sprintf("TX queue %d is traffic class %d's, and map sends no priority there: the shaper would carry nothing", *c.Queue, classes[0]),
				fmt.Sprintf("map the class's priorities to traffic class %d, or put the cbs on a used class's queue", classes[0]))
		}
	}
}
