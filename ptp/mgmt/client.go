// Package mgmt is a client of ptp4l's management socket (the UDS pmc talks to), built on
// facebook/time's ptp/protocol and made right for gPTP: requests carry the transportSpecific
// (majorSdoId) and domain of the ptp4l configuration — ptp4l silently drops others —, every
// request has its own deadline, and replies are matched by sequence id, managementId and port,
// so a stale reply or another port's never answers the wrong question.
package mgmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	ptp "github.com/facebook/time/ptp/protocol"
)

// AllPorts targets every port of the clock.
const AllPorts = 0xFFFF

// Client talks to one ptp4l.
type Client struct {
	conn              *net.UnixConn
	remote            *net.UnixAddr
	local             string
	TransportSpecific uint8         // majorSdoId of requests: 1 for gPTP
	Domain            uint8         // domainNumber of requests
	Timeout           time.Duration // per request
	seq               uint16
	buf               []byte
}

var clientN atomic.Int64

// Dial opens a client of the ptp4l whose uds_address is uds. The client's own socket is bound in
// dir (ptp4l replies to it), e.g. /run/tsnctl.
func Dial(uds, dir string, transportSpecific, domain uint8, timeout time.Duration) (*Client, error) {
	if transportSpecific > 15 {
		return nil, fmt.Errorf("transportSpecific %d: want 0..15", transportSpecific)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	local := filepath.Join(dir, fmt.Sprintf("mgmt.%d.%d", os.Getpid(), clientN.Add(1)))
	os.Remove(local)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("management client socket %s: %w", local, err)
	}
	return &Client{conn: conn, remote: &net.UnixAddr{Name: uds, Net: "unixgram"}, local: local,
		TransportSpecific: transportSpecific, Domain: domain, Timeout: timeout, buf: make([]byte, 2048)}, nil
}

// Close closes the socket and removes its file.
func (c *Client) Close() error {
	err := c.conn.Close()
	os.Remove(c.local)
	return err
}

// ErrTimeout is a request that got no matching reply in time.
var ErrTimeout = errors.New("no reply from ptp4l")

// StatusError is ptp4l's MANAGEMENT_ERROR_STATUS reply.
type StatusError struct {
	ID     ptp.ManagementID
	Status ptp.ManagementErrorID
	Text   string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("ptp4l answered %s to managementId 0x%04x", e.Status, uint16(e.ID))
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// getTLV is a GET request's TLV: the managementId and no data (as pmc sends it).
type getTLV struct{ ptp.ManagementTLVHead }

func (g *getTLV) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	err := binary.Write(&b, binary.BigEndian, g.ManagementTLVHead)
	return b.Bytes(), err
}

// request builds a GET of id for port, with the next sequence id.
func (c *Client) request(id ptp.ManagementID, port uint16) ([]byte, uint16, error) {
	c.seq++
	head := ptp.ManagementMsgHead{
		Header: ptp.Header{
			SdoIDAndMsgType:    ptp.NewSdoIDAndMsgType(ptp.MessageManagement, c.TransportSpecific),
			Version:            ptp.Version,
			MessageLength:      uint16(binary.Size(ptp.ManagementMsgHead{}) + binary.Size(ptp.ManagementTLVHead{})),
			DomainNumber:       c.Domain,
			SourcePortIdentity: ptp.PortIdentity{PortNumber: uint16(os.Getpid())},
			SequenceID:         c.seq,
			LogMessageInterval: 0x7f,
		},
		TargetPortIdentity:   ptp.PortIdentity{ClockIdentity: ptp.ClockIdentity(^uint64(0)), PortNumber: port},
		StartingBoundaryHops: 0,
		BoundaryHops:         0,
		ActionField:          ptp.GET,
	}
	tlv := &getTLV{ptp.ManagementTLVHead{TLVHead: ptp.TLVHead{TLVType: ptp.TLVManagement, LengthField: 2}, ManagementID: id}}
	m := &ptp.Management{ManagementMsgHead: head, TLV: tlv}
	b, err := m.MarshalBinary()
	return b, c.seq, err
}

// Get asks for one dataset of one port (or the clock: any port number for clock datasets) and
// returns its TLV. Replies of other sequence ids, managementIds or ports are dropped.
func (c *Client) Get(id ptp.ManagementID, port uint16) (ptp.ManagementTLV, error) {
	tlvs, err := c.get(id, port, 1)
	if err != nil {
		return nil, err
	}
	return tlvs[0], nil
}

// GetPorts asks every port for a port dataset and returns n replies (n = DEFAULT_DATA_SET's
// numberPorts), in the order they came.
func (c *Client) GetPorts(id ptp.ManagementID, n int) ([]ptp.ManagementTLV, error) {
	return c.get(id, AllPorts, n)
}

func (c *Client) get(id ptp.ManagementID, port uint16, want int) ([]ptp.ManagementTLV, error) {
	req, seq, err := c.request(id, port)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(c.Timeout)
	if err := c.conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	if _, err := c.conn.WriteToUnix(req, c.remote); err != nil {
		return nil, fmt.Errorf("sending to ptp4l at %s: %w (is ptp4l running, with this uds_address?)", c.remote.Name, err)
	}
	var out []ptp.ManagementTLV
	for len(out) < want {
		n, _, err := c.conn.ReadFromUnix(c.buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if len(out) > 0 {
					return out, fmt.Errorf("%d of %d ports answered managementId 0x%04x: %w", len(out), want, uint16(id), ErrTimeout)
				}
				return nil, fmt.Errorf("managementId 0x%04x, sequence %d: %w in %v", uint16(id), seq, ErrTimeout, c.Timeout)
			}
			return nil, err
		}
		tlv, err := c.match(c.buf[:n], id, port, seq)
		if err != nil {
			return nil, err
		}
		if tlv != nil {
			out = append(out, tlv)
		}
	}
	return out, nil
}

// match decodes a reply: (tlv, nil) for the answer, (nil, nil) for something else to drop,
// (nil, err) for an error status answering this request.
func (c *Client) match(b []byte, id ptp.ManagementID, port, seq uint16) (ptp.ManagementTLV, error) {
	if len(b) < binary.Size(ptp.ManagementMsgHead{}) {
		return nil, nil
	}
	var head ptp.ManagementMsgHead
	if err := binary.Read(bytes.NewReader(b), binary.BigEndian, &head); err != nil {
		return nil, nil
	}
	if head.MessageType() != ptp.MessageManagement || head.SequenceID != seq || head.ActionField != ptp.RESPONSE {
		return nil, nil // stale, or not for us
	}
	if port != AllPorts && head.SourcePortIdentity.PortNumber != port && !clockDataset(id) {
		return nil, nil
	}
	p, err := ptp.DecodePacket(b)
	if err != nil {
		return nil, fmt.Errorf("reply to managementId 0x%04x: %w", uint16(id), err)
	}
	switch r := p.(type) {
	case *ptp.ManagementMsgErrorStatus:
		if r.ManagementID != id {
			return nil, nil
		}
		return nil, &StatusError{ID: id, Status: r.ManagementErrorID, Text: string(r.DisplayData)}
	case *ptp.Management:
		if r.TLV.MgmtID() != id {
			return nil, nil
		}
		return r.TLV, nil
	}
	return nil, nil
}

// clockDataset reports whether id is a clock-wide dataset (answered by ptp4l's port 0).
func clockDataset(id ptp.ManagementID) bool {
	switch id {
	case ptp.IDPortDataSet, IDPortDataSetNP, ptp.IDPortStatsNP, ptp.IDPortPropertiesNP, ptp.IDPortServiceStatsNP:
		return false
	}
	return true
}

// TransportSpecificError is a ptp4l that answers management messages, but not with the
// transportSpecific the client sends.
type TransportSpecificError struct {
	UDS           string
	Sent, Answers uint8
}

func (e *TransportSpecificError) Error() string {
	return fmt.Sprintf("ptp4l at %s ignores management messages with transportSpecific %d and answers those with %d: "+
		"its [global] transportSpecific is 0x%x; make ptp.options.transportSpecific (or pmc -t) agree", e.UDS, e.Sent, e.Answers, e.Answers)
}

// Probe finds out why ptp4l does not answer: it asks again with every other transportSpecific
// and names the one ptp4l answers to. It returns nil when ptp4l answers the client's own.
func (c *Client) Probe() error {
	if _, err := c.Get(ptp.IDDefaultDataSet, AllPorts); err == nil {
		return nil
	} else if !errors.Is(err, ErrTimeout) {
		return err
	}
	own := c.TransportSpecific
	defer func() { c.TransportSpecific = own }()
	for ts := uint8(0); ts < 16; ts++ {
		if ts == own {
			continue
		}
		c.TransportSpecific = ts
		if _, err := c.Get(ptp.IDDefaultDataSet, AllPorts); err == nil {
			return &TransportSpecificError{UDS: c.remote.Name, Sent: own, Answers: ts}
		}
	}
	return fmt.Errorf("ptp4l at %s answers no management message (tried transportSpecific 0..15, domain %d): is it running, with uds_address %s?",
		c.remote.Name, c.Domain, c.remote.Name)
}
