package plan

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/plan/plantest"
	"github.com/tsnctl/tsnctl/taprio"
)

const pinBase = `interfaces:
  - name: eth1
    channels: 4
    plan: {etf-delta: 50us}
streams:
  - {name: running, interface: eth1, dest: 10.0.0.2:7788, vlan: 3, period: 1ms, size: 64, offset: 100us, max-latency: 400us}
`

// A running stream keeps its txtime when another is added: the new one is placed around it, and a
// new one that fits only by moving it is refused, saying so.
func TestPinnedStreamKeepsItsTxtime(t *testing.T) {
	_, res, err := Expand(parse(t, pinBase))
	if err != nil {
		t.Fatal(err)
	}
	pins := Pins{"running": res.Rows[0].Txtime}
	if pins["running"] != 100*time.Microsecond {
		t.Fatalf("running alone: txtime %v, want its offset", pins["running"])
	}
	// A second stream with room to move: placed after the running one's window.
	roomy := pinBase + "  - {name: roomy, interface: eth1, dest: 10.0.0.2:7789, vlan: 3, period: 1ms, size: 64, offset: 100us, max-latency: 400us}\n"
	_, res, err = ExpandPinned(parse(t, roomy), pins)
	if err != nil {
		t.Fatal(err)
	}
	if r := rowOf(res, "running"); r.Txtime != 100*time.Microsecond {
		t.Errorf("running moved to %v", r.Txtime)
	}
	// Without the pin the planner may put either first; with it, running's window stays at 100 µs.
	// A stream that must go there (its deadline leaves it 10 µs): only if running moved.
	tight := pinBase + "  - {name: tight, interface: eth1, dest: 10.0.0.2:7789, vlan: 3, period: 1ms, size: 64, offset: 100us, max-latency: 10us}\n"
	if _, res, err := Expand(parse(t, tight)); err != nil || rowOf(res, "running").Txtime == 100*time.Microsecond {
		t.Fatalf("unpinned, both fit with running moved: %v %+v", err, res)
	}
	_, _, err = ExpandPinned(parse(t, tight), pins)
	var pe *Error
	if !errors.As(err, &pe) || pe.Constraint != "pinned" || pe.Stream != "tight" || !strings.Contains(err.Error(), "fit only if running streams move") {
		t.Errorf("tight beside a pinned running stream: %v", err)
	}
	// A pin its stream can no longer meet (its offset moved past it).
	moved := strings.Replace(pinBase, "offset: 100us", "offset: 200us", 1)
	if _, _, err := ExpandPinned(parse(t, moved), pins); !errors.As(err, &pe) || pe.Constraint != "deadline" || !strings.Contains(err.Error(), "its running txtime 100µs is outside") {
		t.Errorf("a pin before the offset: %v", err)
	}
}

// Random sets: plan a set, pin a random part of it at its txtimes and plan it again, the others
// placed around the pinned: every pinned stream keeps its txtime, and the result passes lint with
// windows that do not overlap (or is refused naming a constraint: none was in these 500 sets).
func TestPinnedRandomSets(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 28))
	admitted, refused := 0, map[string]int{}
	for range 500 {
		text := plantest.RandomSet(r, "eth1", taprio.Software)
		cfg := parse(t, text)
		_, res, err := Expand(cfg)
		if err != nil {
			continue
		}
		pins := Pins{}
		for _, row := range res.Rows {
			if r.IntN(2) == 0 {
				pins[row.Stream] = row.Txtime
			}
		}
		// The unpinned ones are re-placed around the pinned: the same set, other order of placement.
		out, res2, err := ExpandPinned(parse(t, text), pins)
		var pe *Error
		if errors.As(err, &pe) {
			refused[pe.Constraint]++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		admitted++
		for name, tx := range pins {
			if got := rowOf(res2, name).Txtime; got != tx {
				t.Fatalf("%s pinned at %v, planned at %v\n%s", name, tx, got, text)
			}
		}
		if fs := lint.Check(out, lint.Facts{TxQueues: map[string]int{"eth1": 4}}); lint.HasErrors(fs) {
			t.Fatalf("lint refuses the pinned plan: %v\n%s", fs, text)
		}
		cycle := res2.Cycles["eth1"]
		var all []interval
		for _, row := range res2.Rows {
			for k := time.Duration(0); k < cycle/row.Period; k++ {
				w := interval{start: k*row.Period + row.Open, end: k*row.Period + row.Close, stream: row.Stream}
				for _, o := range all {
					if o.stream != w.stream && overlaps([]interval{w}, []interval{o}, cycle) {
						t.Fatalf("%s's window [%v, %v) overlaps %s's\n%s", w.stream, w.start, w.end, o.stream, text)
					}
				}
				all = append(all, w)
			}
		}
	}
	t.Logf("%d sets replanned with part of them pinned, refused: %v", admitted, refused)
	if admitted < 200 {
		t.Errorf("only %d of the pinned sets planned", admitted)
	}
}

func rowOf(res *Result, name string) Row {
	for _, r := range res.Rows {
		if r.Stream == name {
			return r
		}
	}
	return Row{}
}
