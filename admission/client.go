package admission

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Client is a connection to the agent's admission socket. The streams it adds are held for as
// long as it stays open (and a grace period after). Its methods may be called from several
// goroutines; requests go one at a time.
type Client struct {
	nc      net.Conn
	reqMu   sync.Mutex // one request in flight
	replies chan Reply
	evicted chan Reply
	done    chan struct{}
	err     error // why the connection ended, set before done closes
}

// Dial connects to the admission socket at path (DefaultSocket when "").
func Dial(ctx context.Context, path string) (*Client, error) {
	if path == "" {
		path = DefaultSocket
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("admission socket: %w (is tsnctl agent running with --admission-socket %s, and may this user use it?)", err, path)
	}
	c := &Client{nc: nc, replies: make(chan Reply, 1), evicted: make(chan Reply, 16), done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *Client) read() {
	sc := bufio.NewScanner(c.nc)
	sc.Buffer(make([]byte, 0, 4096), 16<<20)
	var err error
	for sc.Scan() {
		var r Reply
		if err = json.Unmarshal(sc.Bytes(), &r); err != nil {
			err = fmt.Errorf("admission socket: a reply that is not one: %w", err)
			break
		}
		if r.Event != "" {
			select {
			case c.evicted <- r:
			default: // nobody watches the events and 16 are queued: the oldest are enough
			}
			continue
		}
		c.replies <- r // buffered: at most one request is in flight
	}
	if err == nil {
		err = sc.Err()
	}
	if err == nil {
		err = errors.New("admission socket: the agent closed the connection")
	}
	c.err = err
	close(c.done)
}

// Close ends the connection: the streams it added are released after the agent's grace period,
// unless a new connection of the same user reclaims them (Add with the same stream).
func (c *Client) Close() error { return c.nc.Close() }

// Evicted delivers the names of this connection's streams the agent removed, with why (the
// Reply's Name and Error).
func (c *Client) Evicted() <-chan Reply { return c.evicted }

// Done is closed when the connection ends; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (nil while it is open).
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

func (c *Client) do(ctx context.Context, req Request) (Reply, error) {
	c.reqMu.Lock()
	defer c.reqMu.Unlock()
	b, err := json.Marshal(req)
	if err != nil {
		return Reply{}, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.nc.SetWriteDeadline(dl)
	} else {
		c.nc.SetWriteDeadline(time.Time{})
	}
	if _, err := c.nc.Write(append(b, '\n')); err != nil {
		return Reply{}, err
	}
	select {
	case r := <-c.replies:
		if r.Error != "" {
			return r, &Error{Reason: r.Reason, Msg: r.Error}
		}
		return r, nil
	case <-c.done:
		return Reply{}, c.err
	case <-ctx.Done():
		// The reply would answer this request later, and the next request would read it: the
		// connection is of no more use.
		c.nc.Close()
		return Reply{}, ctx.Err()
	}
}

// Add asks the agent to admit s; the stream is held by this connection. Refused, the error is an
// *Error whose Reason names the rule (a planner's constraint such as deadline or pinned, or one of
// the Reason constants).
func (c *Client) Add(ctx context.Context, s Stream) (*Admitted, error) {
	r, err := c.do(ctx, Request{Op: OpAdd, Stream: &s})
	if err != nil {
		return nil, err
	}
	if r.Admitted == nil {
		return nil, errors.New("admission socket: an add answered without the admitted stream")
	}
	return r.Admitted, nil
}

// List is the streams the agent admitted (every user's).
func (c *Client) List(ctx context.Context) ([]Admitted, error) {
	r, err := c.do(ctx, Request{Op: OpList})
	return r.Streams, err
}

// Del removes an admitted stream: the caller's own, or any as root.
func (c *Client) Del(ctx context.Context, name string) error {
	_, err := c.do(ctx, Request{Op: OpDel, Name: name})
	return err
}

// WaitFrom sleeps until the stream's window is open (From, on CLOCK_TAI), or ctx ends: a sender
// starts after it.
func (a *Admitted) WaitFrom(ctx context.Context) error {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_TAI, &ts); err != nil {
		return err
	}
	wait := time.Duration(a.From - ts.Nano())
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
