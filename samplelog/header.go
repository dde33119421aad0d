package samplelog

import (
	"bytes"
	"encoding/json"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Role is the side of a run that wrote a log.
type Role string

// Roles.
const (
	RoleSend Role = "send"
	RoleRecv Role = "recv"
)

// Header describes the run. On disk it is JSON: {"role", "stream", "started_at", "host", "kernel",
// "params", "labels"}, with the role's parameters under "params" (SendParams or RecvParams). A
// reader ignores keys it does not know, so newer writers can add fields.
type Header struct {
	Role      Role
	Stream    uint32
	StartedAt time.Time
	Host      string
	Kernel    string // the kernel release (uname -r)
	// Send holds a sender's parameters (Role send), Recv a receiver's (Role recv).
	Send *SendParams
	Recv *RecvParams
	// Labels are the user's own facts about the run (send/recv --label KEY=VALUE), e.g. the time
	// base of a lab run; reports show them with the run.
	Labels map[string]string
}

// SendParams is what tsnctl send was asked to do. Times are in ns (TAI for the base-time).
type SendParams struct {
	Mode          string `json:"mode"` // plain (at the cycle start) or txtime (SO_TXTIME)
	Cycle         int64  `json:"cycle_ns"`
	BaseTime      int64  `json:"base_time_ns"`
	PerCycle      int    `json:"per_cycle"`
	Dest          string `json:"dest"`
	Iface         string `json:"iface"`
	Priority      int    `json:"priority"`
	Size          int    `json:"size"`
	FromQdisc     string `json:"from_qdisc"`
	DeadlineMode  bool   `json:"deadline_mode"`
	FIFO          int    `json:"fifo"`
	CPU           int    `json:"cpu"`
	RequireSync   bool   `json:"require_sync"`
	PauseUnlocked bool   `json:"pause_unlocked"`
	// The transmit window in the cycle, the txtime's offset in it and the wake-up advance: txtime
	// mode only (plain sends go at the cycle start and have no window to be judged by).
	WindowStart int64 `json:"window_start_ns,omitempty"`
	WindowEnd   int64 `json:"window_end_ns,omitempty"`
	Offset      int64 `json:"offset_ns,omitempty"`
	WakeAdvance int64 `json:"wake_advance_ns,omitempty"`
	// ETFDelta is the delta of the software ETF (no launch-time offload) on the stream's TX queue,
	// where the sender knows it (send --from-qdisc, send --stream): ETF releases at txtime − delta.
	ETFDelta int64 `json:"etf_delta_ns,omitempty"`
	// Qdisc names the qdisc the stream went through, where a writer knows it.
	Qdisc string `json:"qdisc,omitempty"`
	// Plan is the configuration file whose planned streams were sent (send --stream NAME -f FILE),
	// and Streams their names and ids, NAME=ID,...: one log holds them all; the window above is
	// the first's.
	Plan    string `json:"plan,omitempty"`
	Streams string `json:"streams,omitempty"`
}

// Window reports the transmit window, if the sender had one.
func (p *SendParams) Window() (start, end int64, ok bool) {
	return p.WindowStart, p.WindowEnd, p.Mode == "txtime" && p.WindowEnd > p.WindowStart
}

// RecvParams is what tsnctl recv was asked to do.
type RecvParams struct {
	Listen       string `json:"listen"`
	Iface        string `json:"iface"`
	HWTimestamps bool   `json:"hw_timestamps"`
}

// NewHeader is a header for a log started now by role on this host: the start time, the host name
// and the kernel release filled in.
func NewHeader(role Role, stream uint32, labels map[string]string) Header {
	h := Header{Role: role, Stream: stream, StartedAt: time.Now().UTC(), Labels: labels}
	h.Host, _ = os.Hostname()
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	return h
}

// headerJSON is the header on disk.
type headerJSON struct {
	Role      Role              `json:"role"`
	Stream    uint32            `json:"stream"`
	StartedAt time.Time         `json:"started_at"`
	Host      string            `json:"host,omitempty"`
	Kernel    string            `json:"kernel,omitempty"`
	Params    json.RawMessage   `json:"params,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// Params is the role's parameters, Send or Recv (nil: none).
func (h *Header) Params() any {
	switch {
	case h.Send != nil:
		return h.Send
	case h.Recv != nil:
		return h.Recv
	}
	return nil
}

// MarshalJSON writes the header as it is on disk.
func (h Header) MarshalJSON() ([]byte, error) {
	j := headerJSON{Role: h.Role, Stream: h.Stream, StartedAt: h.StartedAt, Host: h.Host, Kernel: h.Kernel, Labels: h.Labels}
	if params := h.Params(); params != nil {
		b, err := json.Marshal(params)
		if err != nil {
			return nil, err
		}
		j.Params = b
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a header, the parameters into Send or Recv by its role (a role this version
// does not know keeps none).
func (h *Header) UnmarshalJSON(b []byte) error {
	var j headerJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*h = Header{Role: j.Role, Stream: j.Stream, StartedAt: j.StartedAt, Host: j.Host, Kernel: j.Kernel, Labels: j.Labels}
	if len(j.Params) == 0 || bytes.Equal(j.Params, []byte("null")) {
		return nil
	}
	switch j.Role {
	case RoleSend:
		h.Send = new(SendParams)
		return json.Unmarshal(j.Params, h.Send)
	case RoleRecv:
		h.Recv = new(RecvParams)
		return json.Unmarshal(j.Params, h.Recv)
	}
	return nil
}
