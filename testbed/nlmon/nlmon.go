// Package nlmon records netlink messages as the kernel's nlmon device taps them (every message
// between user space and the kernel in one network namespace), for the lab tests that keep the
// real kernel's and tools' messages as golden files: iproute2's and ethtool's requests, the
// kernel's replies and errors. The host tests of the netlink codecs replay those files.
//
// A golden file is text: comment lines (#) saying what was run, then one message per line, its
// direction (> request to the kernel, < from the kernel), its netlink protocol and its bytes in
// hex, nlmsghdr included, with the sequence number and port id zeroed (they change every run).
package nlmon

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"github.com/tsnctl/tsnctl/nsexec"
	"golang.org/x/sys/unix"
)

// Message is one captured netlink message.
type Message struct {
	FromKernel bool
	Protocol   int    // NETLINK_ROUTE, NETLINK_GENERIC, ...
	Data       []byte // the whole message: nlmsghdr and payload
}

// Netlink decodes the message.
func (m Message) Netlink() (netlink.Message, error) {
	var nm netlink.Message
	err := nm.UnmarshalBinary(m.Data)
	return nm, err
}

// Recorder captures on an nlmon device.
type Recorder struct {
	netns, dev string
	fd         int
}

// Start creates the nlmon device dev in network namespace netns (ip netns name), brings it up and
// starts capturing there.
func Start(netns, dev string) (*Recorder, error) {
	if out, err := exec.Command("ip", "-n", netns, "link", "add", dev, "type", "nlmon").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip link add %s type nlmon: %v: %s", dev, err, out)
	}
	r := &Recorder{netns: netns, dev: dev, fd: -1}
	if out, err := exec.Command("ip", "-n", netns, "link", "set", dev, "up").CombinedOutput(); err != nil {
		r.Close()
		return nil, fmt.Errorf("ip link set %s up: %v: %s", dev, err, out)
	}
	err := nsexec.Do(netns, func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return fmt.Errorf("packet socket: %w", err)
		}
		r.fd = fd
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
			return fmt.Errorf("bind to %s: %w", dev, err)
		}
		return nil
	})
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func nlmsgAlign(l int) int { return (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Drain returns the messages captured so far (waiting up to 100 ms for the last ones to arrive).
func (r *Recorder) Drain() ([]Message, error) {
	var out []Message
	buf := make([]byte, 1<<16)
	tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
	if err := unix.SetsockoptTimeval(r.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, err
	}
	for {
		n, from, err := unix.Recvfrom(r.fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EWOULDBLOCK) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || n < unix.NLMSG_HDRLEN {
			continue
		}
		// nlmon gives each message the netlink protocol as its skb protocol. Its direction is lost
		// on the way (a packet socket sees every frame nlmon sends as outgoing): requests are the
		// messages with NLM_F_REQUEST.
		// One tapped skb may carry several messages (a dump's parts): one Message each.
		for b := buf[:n]; len(b) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(b))
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				break
			}
			fromKernel := binary.NativeEndian.Uint16(b[6:])&unix.NLM_F_REQUEST == 0
			out = append(out, Message{FromKernel: fromKernel, Protocol: int(htons(ll.Protocol)), Data: bytes.Clone(b[:l])})
			b = b[min(nlmsgAlign(l), len(b)):]
		}
	}
}

// Record runs a command and returns the netlink messages it exchanged with the kernel, in order,
// and its output. A command that fails (its error says so, with the output) still returns its
// messages: the kernel's refusal is worth recording too.
func (r *Recorder) Record(name string, args ...string) ([]Message, []byte, error) {
	if _, err := r.Drain(); err != nil {
		return nil, nil, err
	}
	out, runErr := exec.Command(name, args...).CombinedOutput()
	msgs, err := r.Drain()
	if err != nil {
		return nil, out, err
	}
	if runErr != nil {
		runErr = fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), runErr, out)
	}
	return msgs, out, runErr
}

// Close stops capturing and deletes the device.
func (r *Recorder) Close() error {
	if r.fd >= 0 {
		unix.Close(r.fd)
	}
	return exec.Command("ip", "-n", r.netns, "link", "del", r.dev).Run()
}

// Only keeps the messages of one netlink protocol whose type is one of types (all of them if none
// is given), the errors and acknowledgements quoting such a message, and the end (NLMSG_DONE) of
// a dump whose parts were kept.
func Only(msgs []Message, protocol int, types ...uint16) []Message {
	var out []Message
	keepType := func(t uint16) bool { return len(types) == 0 || slices.Contains(types, t) }
	inDump := false
	for _, m := range msgs {
		if m.Protocol != protocol || len(m.Data) < unix.NLMSG_HDRLEN {
			continue
		}
		t := binary.NativeEndian.Uint16(m.Data[4:])
		var keep bool
		switch {
		case t == unix.NLMSG_DONE:
			keep = inDump || len(types) == 0
		case t == unix.NLMSG_ERROR && len(m.Data) >= 20+unix.NLMSG_HDRLEN:
			keep = keepType(binary.NativeEndian.Uint16(m.Data[20+4:]))
		default:
			keep = keepType(t)
		}
		if m.FromKernel && t != unix.NLMSG_DONE {
			inDump = keep && binary.NativeEndian.Uint16(m.Data[6:])&unix.NLM_F_MULTI != 0
		}
		if keep {
			out = append(out, m)
		}
	}
	return out
}

// Normalize zeroes what changes from run to run: the sequence number and port id of every
// message, and of the request an error or acknowledgement quotes.
func Normalize(msgs []Message) []Message {
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		b := bytes.Clone(m.Data)
		if len(b) >= 16 {
			binary.NativeEndian.PutUint32(b[8:], 0)
			binary.NativeEndian.PutUint32(b[12:], 0)
			if binary.NativeEndian.Uint16(b[4:]) == unix.NLMSG_ERROR && len(b) >= 16+4+16 {
				binary.NativeEndian.PutUint32(b[20+8:], 0)
				binary.NativeEndian.PutUint32(b[20+12:], 0)
			}
		}
		out[i] = Message{FromKernel: m.FromKernel, Protocol: m.Protocol, Data: b}
	}
	return out
}

// Write prints msgs as a golden file, after the comment lines.
func Write(w *bytes.Buffer, comment []string, msgs []Message) {
	for _, c := range comment {
		fmt.Fprintf(w, "# %s\n", c)
	}
	for _, m := range msgs {
		dir := ">"
		if m.FromKernel {
			dir = "<"
		}
		fmt.Fprintf(w, "%s %d %s\n", dir, m.Protocol, hex.EncodeToString(m.Data))
	}
}

// ReadFile reads a golden file's messages.
func ReadFile(path string) ([]Message, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Message
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || (f[0] != ">" && f[0] != "<") {
			return nil, fmt.Errorf("%s:%d: want DIRECTION PROTOCOL HEX", path, n)
		}
		proto, err := strconv.Atoi(f[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: protocol %q: %v", path, n, f[1], err)
		}
		b, err := hex.DecodeString(f[2])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		out = append(out, Message{FromKernel: f[0] == "<", Protocol: proto, Data: b})
	}
	return out, sc.Err()
}

// Recording splits a golden file into the tool's requests and the kernel's answers, decoded.
func Recording(tb testing.TB, path string) (requests, answers []netlink.Message) {
	tb.Helper()
	msgs, err := ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range msgs {
		nm, err := m.Netlink()
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		if m.FromKernel {
			answers = append(answers, nm)
		} else {
			requests = append(requests, nm)
		}
	}
	return requests, answers
}

// Replay is a netlink connection (mdlayher/netlink's nltest) that plays the kernel of a golden
// file: the code under test's n-th request goes to check with the recording's n-th request, and
// is answered with the kernel's answers to that one (those recorded between it and the next
// request), their sequence number and port id set to match. A request past the recording's last
// fails with an error that says so.
func Replay(tb testing.TB, path string, check func(tb testing.TB, ours, theirs netlink.Message)) *netlink.Conn {
	c, err := Play(path, func(ours, theirs netlink.Message) error {
		check(tb, ours, theirs)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Play is Replay outside a test (for an Example, which has no testing.TB): a request check
// refuses, or one past the recording's last, fails with the error.
func Play(path string, check func(ours, theirs netlink.Message) error) (*netlink.Conn, error) {
	msgs, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	type exchange struct {
		req     netlink.Message
		answers []netlink.Message
	}
	var exs []exchange
	for _, m := range msgs {
		nm, err := m.Netlink()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		switch {
		case !m.FromKernel:
			exs = append(exs, exchange{req: nm})
		case len(exs) > 0:
			exs[len(exs)-1].answers = append(exs[len(exs)-1].answers, nm)
		}
	}
	n := 0
	return nltest.Dial(func(got []netlink.Message) ([]netlink.Message, error) {
		if len(got) == 0 {
			return nil, io.EOF
		}
		if n >= len(exs) {
			return nil, fmt.Errorf("%s: request %d, the recording has %d", path, n+1, len(exs))
		}
		if err := check(got[0], exs[n].req); err != nil {
			return nil, fmt.Errorf("%s: request %d: %w", path, n+1, err)
		}
		var out []netlink.Message
		for _, a := range exs[n].answers {
			// The kernel acknowledges a success only when asked (the tool may have asked, the
			// code under test not).
			if got[0].Header.Flags&netlink.Acknowledge == 0 && isAck(a) {
				continue
			}
			a.Header.Sequence, a.Header.PID = got[0].Header.Sequence, got[0].Header.PID
			out = append(out, a)
		}
		n++
		return out, nil
	}), nil
}

// isAck reports whether m is an acknowledgement: an NLMSG_ERROR of error 0.
func isAck(m netlink.Message) bool {
	return m.Header.Type == netlink.Error && len(m.Data) >= 4 && binary.NativeEndian.Uint32(m.Data) == 0
}

// Attrs maps the netlink attributes in b by type (the nested and byte-order flags cleared); a
// malformed b ends the test.
func Attrs(tb testing.TB, b []byte) map[uint16][]byte {
	tb.Helper()
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		tb.Fatal(err)
	}
	m := map[uint16][]byte{}
	for ad.Next() {
		m[ad.Type()] = ad.Bytes()
	}
	if err := ad.Err(); err != nil {
		tb.Fatal(err)
	}
	return m
}
