// Package admission is the protocol of the tsnctl agent's admission socket, where applications on
// a node add, list and remove the streams they send, and a client for it (Dial). It knows nothing
// of the kernel or of how the agent decides: the agent implements Handler and serves it with
// Server, which owns what is the socket's (peers' credentials, bounds, a stream's lifetime).
//
// The protocol is newline-delimited JSON over a Unix stream socket: a Request per line, answered
// in order by a Reply per line. The agent may also send an unasked Reply with Event set (a stream
// evicted). A stream lives as long as the connection that added it, plus a grace period in which a
// client of the same user that reconnects reclaims it by adding it again with the same name and
// parameters.
//
// By hand: echo '{"op":"list"}' | socat - UNIX-CONNECT:/run/tsnctl/admission.sock
package admission

import (
	"encoding/json"
	"fmt"
	"time"
)

// DefaultSocket is where the agent listens for admission requests when told to (tsnctl agent
// --admission-socket).
const DefaultSocket = "/run/tsnctl/admission.sock"

// Operations.
const (
	OpAdd  = "add"  // admit Stream (or reclaim it, in its grace period)
	OpList = "list" // the admitted streams
	OpDel  = "del"  // remove the stream Name (its owner or root)
)

// Request is one line a client sends.
type Request struct {
	Op     string  `json:"op"`
	Stream *Stream `json:"stream,omitempty"` // add
	Name   string  `json:"name,omitempty"`   // del
}

// Stream is what an application asks for: the fields of a stream in tsnctl's configuration
// (streams:), with the same names and meanings.
type Stream struct {
	Name      string `json:"name"`
	Interface string `json:"interface"`
	// Dest is host:port (UDP over IPv4) or a MAC address (raw 802.1Q).
	Dest   string   `json:"dest"`
	VLAN   uint16   `json:"vlan"`
	PCP    *uint8   `json:"pcp,omitempty"` // absent: the interface's first reserved PCP
	Period Duration `json:"period"`
	Frames int      `json:"frames,omitempty"` // per period; absent: 1
	Size   int      `json:"size"`             // each frame's payload, bytes
	Offset Duration `json:"offset,omitempty"` // the earliest transmit time in each period
	// MaxLatency is the deadline after Offset: the last frame of a period is on the wire by
	// Offset + MaxLatency.
	MaxLatency Duration `json:"max-latency"`
}

// Admitted is an admitted stream and what its sender needs to send it.
type Admitted struct {
	Stream Stream `json:"stream"` // as asked, its PCP filled in
	// Priority is the socket priority (SO_PRIORITY) to send with; VLANInterface the VLAN link to
	// send on (its egress-qos-map sends Priority as the PCP).
	Priority      int    `json:"priority"`
	VLANInterface string `json:"vlan_interface"`
	// Txtime is the transmit time in each period (SO_TXTIME: each frame's txtime is a period's start
	// on CLOCK_TAI, a multiple of the period, plus Txtime); the stream's window in each period is
	// [WindowOpen, WindowClose).
	Txtime      Duration `json:"txtime"`
	WindowOpen  Duration `json:"window_open"`
	WindowClose Duration `json:"window_close"`
	// Cycle is the interface's schedule cycle now (a multiple of the period).
	Cycle Duration `json:"cycle"`
	// From is when the window is open, in nanoseconds on CLOCK_TAI: the base-time of the schedule
	// that carries it. A sender must not send before it (WaitFrom).
	From int64 `json:"from"`
	// Owner is the user id of the client that added it.
	Owner uint32 `json:"owner"`
	// Held is false while its client is gone and its grace period runs.
	Held bool `json:"held"`
}

// Reply is one line the agent sends: an answer to a Request, in order, or (Event set) an event.
type Reply struct {
	// Error is why a request was refused; Reason names the rule in one word (see Error).
	Error    string     `json:"error,omitempty"`
	Reason   string     `json:"reason,omitempty"`
	Admitted *Admitted  `json:"admitted,omitempty"` // add
	Streams  []Admitted `json:"streams,omitempty"`  // list
	// Event is set on a line no request asked for: EventEvicted, with Name and Error the reason.
	Event string `json:"event,omitempty"`
	Name  string `json:"name,omitempty"`
}

// EventEvicted says that the stream Name was removed by the agent (the node's configuration was
// reloaded and the stream no longer fits): its client must stop sending it.
const EventEvicted = "evicted"

// Reasons a request is refused besides the planner's constraints (deadline, pinned, utilisation,
// cycle, gate list, best effort, admission, name, …).
const (
	ReasonInvalid  = "invalid" // not a request: bad JSON, an unknown op, a bad field
	ReasonTooLarge = "too-large"
	ReasonRate     = "rate"  // more requests per second than allowed
	ReasonLimit    = "limit" // more streams than the peer (user or connection) may hold
	ReasonExists   = "exists"
	ReasonNotFound = "not-found"
	ReasonDenied   = "denied" // del of another user's stream
	ReasonBusy     = "busy"   // the agent did not answer in time
)

// Error is a refused request.
type Error struct {
	Reason string
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("admission refused (%s): %s", e.Reason, e.Msg) }

// Errorf makes an Error.
func Errorf(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// Duration is a time.Duration written as Go writes it: "2ms", "500us", "1.5s".
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "2ms" (Go's duration syntax; µs as us too) or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var n int64
	if err := json.Unmarshal(b, &n); err == nil {
		*d = Duration(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string like \"2ms\" or a number of nanoseconds, not %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: want e.g. \"2ms\", \"500us\"", s)
	}
	*d = Duration(v)
	return nil
}

// String is Go's form.
func (d Duration) String() string { return time.Duration(d).String() }
