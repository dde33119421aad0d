package admission

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/time/rate"
)

// Peer is a client as the kernel vouches for it (SO_PEERCRED).
type Peer struct {
	UID, GID uint32
	PID      int32
}

// Handler decides: the agent implements it. Its methods may be called from several connections at
// once; Server never calls Add twice for one name at a time.
type Handler interface {
	// Add admits s for p, or refuses it (an *Error says why; any other error is ReasonInvalid).
	Add(p Peer, s Stream) (Admitted, error)
	// Remove removes the admitted stream name (its client deleted it, or its grace period ended).
	Remove(name string) error
	// List is the admitted streams.
	List() []Admitted
}

// Limits bound what clients can ask of the agent. Zero fields take the defaults.
type Limits struct {
	MaxRequest     int           // bytes in a request line (default 4096)
	MaxConns       int           // connections at one time (default 64)
	MaxConnsPerUID int           // connections of one user at one time (default 16)
	StreamsPerUID  int           // streams one user holds, in grace periods included (default 16)
	StreamsPerConn int           // streams added on one connection (default 8)
	Rate           float64       // requests per second per connection (default 20), with a burst of Burst
	Burst          int           // (default 40)
	WriteTimeout   time.Duration // a reply not taken by the client in this time closes its connection (default 1s)
	Grace          time.Duration // a stream outlives its connection by this long (default 5s)
}

func (l *Limits) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxRequest, 4096)
	def(&l.MaxConns, 64)
	def(&l.MaxConnsPerUID, 16)
	def(&l.StreamsPerUID, 16)
	def(&l.StreamsPerConn, 8)
	def(&l.Burst, 40)
	if l.Rate <= 0 {
		l.Rate = 20
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = time.Second
	}
	if l.Grace <= 0 {
		l.Grace = 5 * time.Second
	}
}

// Server serves a Handler on a Unix socket: it reads each peer's credentials, bounds requests
// (size, rate per connection, streams per user and per connection, connections per user and in
// all: a user's requests are bounded by the two), ties each stream to the
// connection that added it (released Grace after the connection ends, unless reclaimed) and never
// lets a client stall the handler or another client: each connection has its own reader and
// writer, and one whose replies are not read in WriteTimeout is closed.
type Server struct {
	h   Handler
	l   Limits
	log *slog.Logger

	mu     sync.Mutex
	owners map[string]*owner // by stream name
	conns  map[*conn]bool
	byUID  map[uint32]int // connections open, per user
}

// owner is who holds a stream: a live connection, or nobody while its grace period runs.
type owner struct {
	uid     uint32
	stream  Stream
	conn    *conn // nil: in its grace period (timer runs) or being added (pending)
	timer   *time.Timer
	pending bool
	by      *conn // the connection adding it, while pending
}

// heldBy counts the streams c holds or is adding; s.mu is held.
func (s *Server) heldBy(c *conn) int {
	n := 0
	for _, o := range s.owners {
		if o.conn == c || o.pending && o.by == c {
			n++
		}
	}
	return n
}

// NewServer makes a server; log may be nil.
func NewServer(h Handler, l Limits, log *slog.Logger) *Server {
	l.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{h: h, l: l, log: log, owners: map[string]*owner{}, conns: map[*conn]bool{}, byUID: map[uint32]int{}}
}

// Listen makes the socket at path, readable and writable by its owner and by group gid (gid < 0:
// root only): mode 0660, or 0600. A socket left at path by a previous run is removed first; any
// other file there is an error (the path is never deleted unless it is a socket).
func Listen(path string, gid int) (*net.UnixListener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("admission socket %s: a %s is there, not a socket: choose another path (--admission-socket)", path, fi.Mode().Type())
		}
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(true)
	mode := os.FileMode(0o600)
	if gid >= 0 {
		mode = 0o660
		if err := os.Chown(path, -1, gid); err != nil {
			ln.Close()
			return nil, fmt.Errorf("admission socket %s: group %d: %w", path, gid, err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// Serve accepts connections until ctx ends (then it closes ln and every connection; streams in
// grace periods are released when their timers run, as usual).
func (s *Server) Serve(ctx context.Context, ln *net.UnixListener) error {
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
	})
	defer stop()
	for {
		nc, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		go s.serve(nc)
	}
}

// conn is one client connection.
type conn struct {
	nc    *net.UnixConn
	peer  Peer
	out   chan Reply
	done  chan struct{}
	close sync.Once
}

func (c *conn) shut() { c.close.Do(func() { close(c.done); c.nc.Close() }) }

// send queues a reply for the writer; a client that has not taken the earlier ones in
// WriteTimeout is cut off.
func (c *conn) send(r Reply, timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case c.out <- r:
	case <-c.done:
	case <-t.C:
		c.shut()
	}
}

func peerOf(nc *net.UnixConn) (Peer, error) {
	raw, err := nc.SyscallConn()
	if err != nil {
		return Peer{}, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return Peer{}, err
	}
	if cerr != nil {
		return Peer{}, cerr
	}
	return Peer{UID: cred.Uid, GID: cred.Gid, PID: cred.Pid}, nil
}

func (s *Server) serve(nc *net.UnixConn) {
	peer, err := peerOf(nc)
	if err != nil {
		nc.Close()
		return
	}
	c := &conn{nc: nc, peer: peer, out: make(chan Reply, 4), done: make(chan struct{})}
	s.mu.Lock()
	refused := ""
	switch {
	case len(s.conns) >= s.l.MaxConns:
		refused = fmt.Sprintf("the agent serves %d connections at most", s.l.MaxConns)
	case s.byUID[peer.UID] >= s.l.MaxConnsPerUID:
		refused = fmt.Sprintf("user %d has %d connections open, the most one user may", peer.UID, s.l.MaxConnsPerUID)
	default:
		s.conns[c] = true
		s.byUID[peer.UID]++
	}
	s.mu.Unlock()
	if refused != "" {
		nc.SetWriteDeadline(time.Now().Add(s.l.WriteTimeout))
		b, _ := json.Marshal(Reply{Error: refused, Reason: ReasonLimit})
		nc.Write(append(b, '\n'))
		nc.Close()
		return
	}
	go s.write(c)
	s.read(c, rate.NewLimiter(rate.Limit(s.l.Rate), s.l.Burst))
	c.shut()
	s.mu.Lock()
	delete(s.conns, c)
	if s.byUID[peer.UID]--; s.byUID[peer.UID] == 0 {
		delete(s.byUID, peer.UID)
	}
	// Its streams outlive it by the grace period.
	for name, o := range s.owners {
		if o.conn == c {
			o.conn = nil
			o.timer = time.AfterFunc(s.l.Grace, func() { s.expire(name, o) })
		}
	}
	s.mu.Unlock()
}

func (s *Server) write(c *conn) {
	enc := json.NewEncoder(c.nc)
	for {
		select {
		case r := <-c.out:
			c.nc.SetWriteDeadline(time.Now().Add(s.l.WriteTimeout))
			if err := enc.Encode(r); err != nil {
				c.shut()
				return
			}
		case <-c.done:
			return
		}
	}
}

// maxDiscard is how much of an oversized request is read and thrown away (so that the connection
// stays usable and the client reads its error) before the connection is closed instead.
const maxDiscard = 1 << 20

func (s *Server) read(c *conn, limiter *rate.Limiter) {
	r := bufio.NewReaderSize(c.nc, s.l.MaxRequest+1)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			c.send(Reply{Error: fmt.Sprintf("a request is at most %d bytes", s.l.MaxRequest), Reason: ReasonTooLarge}, s.l.WriteTimeout)
			if !discardLine(r) {
				return
			}
			continue
		}
		if err != nil {
			return // the client left (a last line without its newline is not a request)
		}
		if !limiter.Allow() {
			c.send(Reply{Error: fmt.Sprintf("more than %g requests per second (burst %d) on this connection: slow down", s.l.Rate, s.l.Burst), Reason: ReasonRate}, s.l.WriteTimeout)
			continue
		}
		var req Request
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			c.send(Reply{Error: "not a request: " + err.Error(), Reason: ReasonInvalid}, s.l.WriteTimeout)
			continue
		}
		c.send(s.handle(c, req), s.l.WriteTimeout)
	}
}

// discardLine reads up to the end of an oversized line, at most maxDiscard bytes more.
func discardLine(r *bufio.Reader) bool {
	for n := 0; n < maxDiscard; {
		b, err := r.ReadSlice('\n')
		n += len(b)
		switch {
		case err == nil:
			return true
		case !errors.Is(err, bufio.ErrBufferFull):
			return false
		}
	}
	return false
}

func (s *Server) handle(c *conn, req Request) Reply {
	switch req.Op {
	case OpList:
		return Reply{Streams: s.list()}
	case OpDel:
		return s.del(c, req.Name)
	case OpAdd:
		if req.Stream == nil {
			return Reply{Error: "add needs a stream", Reason: ReasonInvalid}
		}
		a, err := s.add(c, *req.Stream)
		if err != nil {
			return errReply(err)
		}
		return Reply{Admitted: &a}
	}
	return Reply{Error: fmt.Sprintf("unknown op %q: want add, list or del", req.Op), Reason: ReasonInvalid}
}

func errReply(err error) Reply {
	var e *Error
	if errors.As(err, &e) {
		return Reply{Error: e.Msg, Reason: e.Reason}
	}
	return Reply{Error: err.Error(), Reason: ReasonInvalid}
}

// list is the handler's streams with who holds them.
func (s *Server) list() []Admitted {
	out := s.h.List()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range out {
		if o, ok := s.owners[out[i].Stream.Name]; ok {
			out[i].Owner, out[i].Held = o.uid, o.conn != nil
		}
	}
	slices.SortFunc(out, func(a, b Admitted) int { return strings.Compare(a.Stream.Name, b.Stream.Name) })
	return out
}

func (s *Server) add(c *conn, st Stream) (Admitted, error) {
	s.mu.Lock()
	if o, ok := s.owners[st.Name]; ok {
		var refused error
		switch {
		case o.conn != nil || o.pending:
			refused = Errorf(ReasonExists, "stream %q is admitted and held by a connection: choose another name", st.Name)
		case o.uid != c.peer.UID:
			refused = Errorf(ReasonExists, "stream %q belongs to user %d (its grace period runs): choose another name", st.Name, o.uid)
		case !reflect.DeepEqual(o.stream, st):
			refused = Errorf(ReasonExists, "stream %q is in its grace period with other parameters: reclaim it as it was, or delete it first", st.Name)
		case s.heldBy(c) >= s.l.StreamsPerConn:
			refused = Errorf(ReasonLimit, "a connection holds at most %d streams", s.l.StreamsPerConn)
		}
		if refused != nil {
			s.mu.Unlock()
			return Admitted{}, refused
		}
		// Reclaimed: held again by this connection (the handler is asked without the lock: it may
		// be evicting meanwhile).
		o.timer.Stop()
		o.conn = c
		s.mu.Unlock()
		for _, a := range s.h.List() {
			if a.Stream.Name == st.Name {
				a.Owner, a.Held = o.uid, true
				return a, nil
			}
		}
		return Admitted{}, Errorf(ReasonNotFound, "stream %q is no longer admitted", st.Name)
	}
	held := 0
	for _, o := range s.owners {
		if o.uid == c.peer.UID {
			held++
		}
	}
	switch {
	case held >= s.l.StreamsPerUID:
		s.mu.Unlock()
		return Admitted{}, Errorf(ReasonLimit, "user %d holds %d streams, the most one user may", c.peer.UID, s.l.StreamsPerUID)
	case s.heldBy(c) >= s.l.StreamsPerConn:
		s.mu.Unlock()
		return Admitted{}, Errorf(ReasonLimit, "a connection holds at most %d streams", s.l.StreamsPerConn)
	}
	o := &owner{uid: c.peer.UID, stream: st, pending: true, by: c}
	s.owners[st.Name] = o
	s.mu.Unlock()

	a, err := s.h.Add(c.peer, st)
	s.mu.Lock()
	defer s.mu.Unlock()
	o.pending = false
	if err != nil {
		delete(s.owners, st.Name)
		return Admitted{}, err
	}
	select {
	case <-c.done: // the client left while it was being added: its grace period starts now
		o.timer = time.AfterFunc(s.l.Grace, func() { s.expire(st.Name, o) })
	default:
		o.conn = c
	}
	a.Owner, a.Held = o.uid, o.conn != nil
	return a, nil
}

func (s *Server) del(c *conn, name string) Reply {
	s.mu.Lock()
	o, ok := s.owners[name]
	switch {
	case !ok:
		s.mu.Unlock()
		return Reply{Error: fmt.Sprintf("no admitted stream %q", name), Reason: ReasonNotFound}
	case o.pending:
		s.mu.Unlock()
		return Reply{Error: fmt.Sprintf("stream %q is being added", name), Reason: ReasonBusy}
	case o.uid != c.peer.UID && c.peer.UID != 0:
		s.mu.Unlock()
		return Reply{Error: fmt.Sprintf("stream %q belongs to user %d: only its owner or root deletes it", name, o.uid), Reason: ReasonDenied}
	}
	delete(s.owners, name)
	if o.timer != nil {
		o.timer.Stop()
	}
	s.mu.Unlock()
	if err := s.h.Remove(name); err != nil {
		return errReply(err)
	}
	return Reply{}
}

// expire releases a stream whose grace period ended without a reclaim.
func (s *Server) expire(name string, o *owner) {
	s.mu.Lock()
	if s.owners[name] != o || o.conn != nil {
		s.mu.Unlock()
		return // reclaimed or deleted meanwhile
	}
	delete(s.owners, name)
	s.mu.Unlock()
	if err := s.h.Remove(name); err != nil {
		s.log.Error("releasing a stream after its grace period", "stream", name, "err", err)
	}
}

// Evict tells the owner of a stream the agent removed (why: reason) and forgets it.
func (s *Server) Evict(name, reason string) {
	s.mu.Lock()
	o, ok := s.owners[name]
	if ok {
		delete(s.owners, name)
		if o.timer != nil {
			o.timer.Stop()
		}
	}
	s.mu.Unlock()
	if ok && o.conn != nil {
		c := o.conn
		select {
		case c.out <- Reply{Event: EventEvicted, Name: name, Error: reason}:
		default:
			c.shut() // a client that does not read its replies learns it from the closed connection
		}
	}
}
