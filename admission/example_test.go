package admission_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tsnctl/tsnctl/admission"
)

// node is the test server's handler: it admits every stream at its earliest offset, in a 2 ms
// cycle whose schedule starts at TAI 1 000 000 000 ns. (The agent's handler plans the stream into
// the interface's schedule and changes it in place.)
type node struct{ streams map[string]admission.Admitted }

func (n *node) Add(p admission.Peer, s admission.Stream) (admission.Admitted, error) {
	if s.Offset+s.MaxLatency > s.Period {
		return admission.Admitted{}, admission.Errorf("deadline", "offset + max-latency passes the period")
	}
	a := admission.Admitted{Stream: s, Priority: 6, VLANInterface: fmt.Sprintf("%s.%d", s.Interface, s.VLAN),
		Txtime: s.Offset, WindowOpen: s.Offset - admission.Duration(50*time.Microsecond), WindowClose: s.Offset + admission.Duration(2*time.Microsecond),
		Cycle: admission.Duration(2 * time.Millisecond), From: 1_000_000_000}
	n.streams[s.Name] = a
	return a, nil
}

func (n *node) Remove(name string) error { delete(n.streams, name); return nil }

func (n *node) List() []admission.Admitted {
	var out []admission.Admitted
	for _, a := range n.streams {
		out = append(out, a)
	}
	return out
}

// An application reserves a stream, sends with what the reply gives, and lets it go by closing the
// connection (or deleting it).
func Example() {
	// The test server, as `tsnctl agent --admission-socket` would serve it.
	dir, _ := os.MkdirTemp("", "admission")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "admission.sock")
	ln, err := admission.Listen(path, -1)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go admission.NewServer(&node{streams: map[string]admission.Admitted{}}, admission.Limits{}, nil).Serve(ctx, ln)

	// The application.
	c, err := admission.Dial(ctx, path)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	a, err := c.Add(ctx, admission.Stream{Name: "control", Interface: "eth1", Dest: "10.0.0.2:7788", VLAN: 3,
		Period: admission.Duration(2 * time.Millisecond), Size: 64, Offset: admission.Duration(1200 * time.Microsecond),
		MaxLatency: admission.Duration(100 * time.Microsecond)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("send on %s with priority %d, txtime %v into each period, from TAI %d ns\n", a.VLANInterface, a.Priority, a.Txtime, a.From)
	// a.WaitFrom(ctx) would wait until then; a sender then sends with SO_TXTIME.

	_, err = c.Add(ctx, admission.Stream{Name: "late", Interface: "eth1", Dest: "10.0.0.2:7789", VLAN: 3,
		Period: admission.Duration(2 * time.Millisecond), Size: 64, Offset: admission.Duration(1950 * time.Microsecond),
		MaxLatency: admission.Duration(100 * time.Microsecond)})
	fmt.Println(err)

	all, _ := c.List(ctx)
	for _, s := range all {
		fmt.Printf("%s held %v\n", s.Stream.Name, s.Held)
	}
	fmt.Println(c.Del(ctx, "control"))
	// Output:
	// send on eth1.3 with priority 6, txtime 1.2ms into each period, from TAI 1000000000 ns
	// admission refused (deadline): offset + max-latency passes the period
	// control held true
	// <nil>
}
