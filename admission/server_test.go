package admission

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/admission/admissiontest"
)

// book is a Handler that admits every stream at its offset and records what it was asked.
type book struct {
	mu      sync.Mutex
	streams map[string]Admitted
	removed []string
	delay   time.Duration // each Add takes this long
}

func newBook() *book { return &book{streams: map[string]Admitted{}} }

func (b *book) Add(p Peer, s Stream) (Admitted, error) {
	time.Sleep(b.delay)
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.Period <= 0 {
		return Admitted{}, Errorf("deadline", "no period")
	}
	a := Admitted{Stream: s, Priority: 6, VLANInterface: "eth1." + "3", Txtime: s.Offset, Cycle: s.Period, From: 42}
	b.streams[s.Name] = a
	return a, nil
}

func (b *book) Remove(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.streams, name)
	b.removed = append(b.removed, name)
	return nil
}

func (b *book) List() []Admitted {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Admitted
	for _, a := range b.streams {
		out = append(out, a)
	}
	return out
}

func (b *book) removedNames() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.removed...)
}

// serve runs a Server on a socket in the test's directory.
func serve(t *testing.T, h Handler, l Limits) (string, *Server) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "admission.sock")
	ln, err := Listen(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(h, l, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return path, s
}

func dial(t *testing.T, path string) *Client {
	t.Helper()
	c, err := Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func stream(name string) Stream {
	return Stream{Name: name, Interface: "eth1", Dest: "10.0.0.2:7788", VLAN: 3, Period: Duration(2 * time.Millisecond), Size: 64,
		Offset: Duration(100 * time.Microsecond), MaxLatency: Duration(200 * time.Microsecond)}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

// A stream lives as long as its connection plus the grace period: reclaimed in it by the same
// user with the same parameters, it stays; not reclaimed, the handler removes it when it ends.
func TestStreamLifetime(t *testing.T) {
	b := newBook()
	path, _ := serve(t, b, Limits{Grace: 300 * time.Millisecond})
	c := dial(t, path)
	if _, err := c.Add(ctx(t), stream("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(ctx(t), stream("b")); err != nil {
		t.Fatal(err)
	}
	// Another connection cannot take a held name.
	other := dial(t, path)
	if _, err := other.Add(ctx(t), stream("a")); !isReason(err, ReasonExists) {
		t.Errorf("a held name added again: %v", err)
	}
	c.Close()
	time.Sleep(50 * time.Millisecond)
	l, err := other.List(ctx(t))
	if err != nil || len(l) != 2 || l[0].Held || l[1].Held {
		t.Fatalf("in the grace period: %+v %v", l, err)
	}
	// Reclaim a with other parameters: refused; as it was: held again.
	changed := stream("a")
	changed.Size = 100
	again := dial(t, path)
	if _, err := again.Add(ctx(t), changed); !isReason(err, ReasonExists) {
		t.Errorf("reclaimed with other parameters: %v", err)
	}
	if a, err := again.Add(ctx(t), stream("a")); err != nil || !a.Held || a.From != 42 {
		t.Fatalf("reclaim: %+v %v", a, err)
	}
	time.Sleep(500 * time.Millisecond)
	if r := b.removedNames(); len(r) != 1 || r[0] != "b" {
		t.Errorf("after the grace period, removed %v: want b only (a was reclaimed)", r)
	}
	// Deleted by its owner: removed at once.
	if err := again.Del(ctx(t), "a"); err != nil {
		t.Fatal(err)
	}
	if err := again.Del(ctx(t), "a"); !isReason(err, ReasonNotFound) {
		t.Errorf("deleted twice: %v", err)
	}
	if r := b.removedNames(); len(r) != 2 {
		t.Errorf("removed %v", r)
	}
}

func isReason(err error, reason string) bool {
	var e *Error
	return errors.As(err, &e) && e.Reason == reason
}

// Only its owner or root deletes a stream.
func TestDelOwnerOrRoot(t *testing.T) {
	b := newBook()
	s := NewServer(b, Limits{}, nil)
	alice := &conn{peer: Peer{UID: 1000}, done: make(chan struct{})}
	bob := &conn{peer: Peer{UID: 1001}, done: make(chan struct{})}
	root := &conn{peer: Peer{UID: 0}, done: make(chan struct{})}
	if _, err := s.add(alice, stream("a")); err != nil {
		t.Fatal(err)
	}
	if r := s.del(bob, "a"); r.Reason != ReasonDenied {
		t.Errorf("another user's del: %+v", r)
	}
	if r := s.del(root, "a"); r.Error != "" {
		t.Errorf("root's del: %+v", r)
	}
	// Bounds: streams per user, per connection.
	s = NewServer(b, Limits{StreamsPerUID: 2, StreamsPerConn: 1}, nil)
	alice = &conn{peer: Peer{UID: 1000}, done: make(chan struct{})}
	if _, err := s.add(alice, stream("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.add(alice, stream("y")); !isReason(err, ReasonLimit) || !strings.Contains(err.Error(), "a connection holds at most 1") {
		t.Errorf("second on one connection: %v", err)
	}
	alice2 := &conn{peer: Peer{UID: 1000}, done: make(chan struct{})}
	alice3 := &conn{peer: Peer{UID: 1000}, done: make(chan struct{})}
	if _, err := s.add(alice2, stream("y")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.add(alice3, stream("z")); !isReason(err, ReasonLimit) || !strings.Contains(err.Error(), "user 1000 holds 2") {
		t.Errorf("third for one user: %v", err)
	}
	// A refused add leaves nothing held.
	bad := stream("bad")
	bad.Period = 0
	if _, err := s.add(bob, bad); !isReason(err, "deadline") {
		t.Errorf("the handler's refusal: %v", err)
	}
	if _, ok := s.owners["bad"]; ok {
		t.Error("a refused stream is held")
	}
}

// raw is a connection that speaks the protocol by hand.
func raw(t *testing.T, path string) (net.Conn, *bufio.Scanner) {
	t.Helper()
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	sc := bufio.NewScanner(nc)
	sc.Buffer(nil, 1<<20)
	return nc, sc
}

func replyOf(t *testing.T, nc net.Conn, sc *bufio.Scanner) Reply {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if !sc.Scan() {
		t.Fatalf("no reply: %v", sc.Err())
	}
	var r Reply
	if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// Garbage, unknown fields and ops get an error and change nothing; the connection stays usable. A
// line over the size bound gets an error and the connection is closed.
func TestHostileRequests(t *testing.T) {
	b := newBook()
	path, _ := serve(t, b, Limits{MaxRequest: 1024})
	nc, sc := raw(t, path)
	for _, line := range []string{
		"garbage",
		`{"op":"add"}`,
		`{"op":"explode"}`,
		`{"op":"add","stream":{"name":"x","period":"forever"}}`,
		`{"op":"add","stream":{"name":"x","period":"2ms","uid":0}}`,
		`{"op":"list","extra":1}`,
		"\x00\xff\xfe",
	} {
		nc.Write([]byte(line + "\n"))
		if r := replyOf(t, nc, sc); r.Reason != ReasonInvalid {
			t.Errorf("%q: %+v", line, r)
		}
	}
	nc.Write([]byte(`{"op":"list"}` + "\n"))
	if r := replyOf(t, nc, sc); r.Error != "" {
		t.Errorf("still usable: %+v", r)
	}
	if len(b.List()) != 0 {
		t.Errorf("the handler was changed: %v", b.List())
	}
	nc.Write([]byte(`{"op":"list","name":"` + strings.Repeat("x", 4096) + "\"}\n"))
	if r := replyOf(t, nc, sc); r.Reason != ReasonTooLarge {
		t.Errorf("a huge request: %+v", r)
	}
	nc.Write([]byte(`{"op":"list"}` + "\n"))
	if r := replyOf(t, nc, sc); r.Error != "" {
		t.Errorf("usable after a huge request: %+v", r)
	}
	// A line without end: cut off after a bounded amount.
	go func() {
		chunk := []byte(strings.Repeat("y", 64<<10))
		for range 64 {
			if _, err := nc.Write(chunk); err != nil {
				return
			}
		}
	}()
	if r := replyOf(t, nc, sc); r.Reason != ReasonTooLarge {
		t.Errorf("an endless request: %+v", r)
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if sc.Scan() {
		t.Errorf("the connection stays open after an endless request: %q", sc.Text())
	}
}

// Thousands of requests a second: past the burst, the user's requests are refused with reason
// rate until the bucket fills again; the handler is asked no more than the rate allows.
func TestRequestRate(t *testing.T) {
	b := newBook()
	path, _ := serve(t, b, Limits{Rate: 10, Burst: 5})
	nc, sc := raw(t, path)
	go func() {
		w := bufio.NewWriter(nc)
		for range 2000 {
			w.WriteString(`{"op":"list"}` + "\n")
		}
		w.Flush()
	}()
	start := time.Now()
	ok, limited := 0, 0
	for range 2000 {
		switch r := replyOf(t, nc, sc); r.Reason {
		case "":
			ok++
		case ReasonRate:
			limited++
		default:
			t.Fatalf("%+v", r)
		}
	}
	// At most the burst plus what 10/s refills while they were read.
	if most := 5 + int(10*time.Since(start).Seconds()) + 1; ok > most || limited == 0 {
		t.Errorf("2000 requests: %d answered, %d refused for the rate; at most %d may be answered", ok, limited, most)
	}
	t.Logf("2000 requests in %v: %d answered, %d refused (rate)", time.Since(start).Round(time.Millisecond), ok, limited)
}

// A client that sends and never reads is cut off when its replies back up; meanwhile a second
// client is answered within 100 ms and the handler is not held up.
func TestClientThatNeverReads(t *testing.T) {
	b := newBook()
	path, _ := serve(t, b, Limits{WriteTimeout: 200 * time.Millisecond, Rate: 1e6, Burst: 1e6, StreamsPerConn: 20, StreamsPerUID: 20})
	// Replies of a list with a long name fill the socket's buffers quickly.
	c := dial(t, path)
	for i := range 20 {
		s := stream("s" + strings.Repeat("x", 1000) + string(rune('a'+i)))
		if _, err := c.Add(ctx(t), s); err != nil {
			t.Fatal(err)
		}
	}
	hogDone, stopHog, err := admissiontest.NeverReads(path)
	if err != nil {
		t.Fatal(err)
	}
	defer stopHog()
	other := dial(t, path)
	var worst time.Duration
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		start := time.Now()
		if _, err := other.List(ctx(t)); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(start))
		time.Sleep(10 * time.Millisecond)
	}
	if worst > 100*time.Millisecond {
		t.Errorf("beside a client that never reads, a list took up to %v", worst)
	}
	select {
	case err := <-hogDone:
		t.Logf("the client that never reads was cut off (%v); the other's slowest answer: %v", err, worst)
	case <-time.After(5 * time.Second):
		t.Error("a client that never reads is still connected")
	}
}

// Connections beyond the bounds are refused with a reason, and the others keep working.
func TestConnectionBounds(t *testing.T) {
	path, _ := serve(t, newBook(), Limits{MaxConnsPerUID: 3})
	for range 3 {
		c := dial(t, path)
		if _, err := c.List(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	nc, sc := raw(t, path)
	if r := replyOf(t, nc, sc); r.Reason != ReasonLimit || !strings.Contains(r.Error, "connections open") {
		t.Errorf("a fourth connection: %+v", r)
	}
}

// Listen removes a socket a previous run left, and refuses to touch anything else at its path.
func TestListenOnlyReplacesASocket(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "precious")
	os.WriteFile(file, []byte("keep"), 0o644)
	if _, err := Listen(file, -1); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("a regular file at the path: %v", err)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "keep" {
		t.Errorf("the file was touched: %q %v", b, err)
	}
	sock := filepath.Join(dir, "s.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close() // a stale socket, as a crashed agent leaves
	ln2, err := Listen(sock, -1)
	if err != nil {
		t.Fatalf("a stale socket: %v", err)
	}
	defer ln2.Close()
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v %v: want 0600 without a group", fi.Mode(), err)
	}
}
