package mgmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ptp "github.com/facebook/time/ptp/protocol"
)

// fakePtp4l answers management requests on a unixgram socket the way a scenario says.
type fakePtp4l struct {
	conn *net.UnixConn
	path string
	seen chan ptp.ManagementMsgHead
}

func newFake(t *testing.T, answer func(req ptp.ManagementMsgHead, id ptp.ManagementID) [][]byte) *fakePtp4l {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ptp4l")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakePtp4l{conn: conn, path: path, seen: make(chan ptp.ManagementMsgHead, 100)}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			var head ptp.ManagementMsgHead
			r := bytes.NewReader(buf[:n])
			binary.Read(r, binary.BigEndian, &head)
			var tlv ptp.ManagementTLVHead
			binary.Read(r, binary.BigEndian, &tlv)
			f.seen <- head
			for _, reply := range answer(head, tlv.ManagementID) {
				conn.WriteToUnix(reply, from)
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return f
}

func dial(t *testing.T, f *fakePtp4l, ts uint8) *Client {
	t.Helper()
	c, err := Dial(f.path, t.TempDir(), ts, 0, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// response builds ptp4l's RESPONSE to req from port with tlv.
func response(t *testing.T, req ptp.ManagementMsgHead, port uint16, seq uint16, tlv ptp.ManagementTLV) []byte {
	head := req
	head.ActionField = ptp.RESPONSE
	head.SequenceID = seq
	head.SourcePortIdentity = ptp.PortIdentity{ClockIdentity: 0xaabbccfffe000001, PortNumber: port}
	b, err := (&ptp.Management{ManagementMsgHead: head, TLV: tlv}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func portDS(port uint16, state ptp.PortState, delay float64) *PortDataSetTLV {
	return &PortDataSetTLV{
		ManagementTLVHead: ptp.ManagementTLVHead{TLVHead: ptp.TLVHead{TLVType: ptp.TLVManagement, LengthField: 28}, ManagementID: ptp.IDPortDataSet},
		PortIdentity:      ptp.PortIdentity{ClockIdentity: 0xaabbccfffe000001, PortNumber: port},
		PortState:         state, PeerMeanPathDelay: ptp.NewTimeInterval(delay), LogSyncInterval: -3, DelayMechanism: 2, VersionNumber: 2,
	}
}

func TestRequestCarriesTransportSpecificAndDomain(t *testing.T) {
	f := newFake(t, func(req ptp.ManagementMsgHead, id ptp.ManagementID) [][]byte { return nil })
	c := dial(t, f, 1)
	c.Domain = 7
	if _, err := c.Get(ptp.IDCurrentDataSet, AllPorts); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v", err)
	}
	head := <-f.seen
	if sdo := uint8(head.SdoIDAndMsgType) >> 4; sdo != 1 || head.MessageType() != ptp.MessageManagement || head.DomainNumber != 7 ||
		head.ActionField != ptp.GET || head.SequenceID != 1 || head.TargetPortIdentity.PortNumber != AllPorts {
		t.Errorf("request header %+v (majorSdoId %d)", head, uint8(head.SdoIDAndMsgType)>>4)
	}
}

func TestStaleAndForeignRepliesAreDropped(t *testing.T) {
	f := newFake(t, func(req ptp.ManagementMsgHead, id ptp.ManagementID) [][]byte {
		return [][]byte{
			response(t, req, 1, req.SequenceID-1, portDS(1, ptp.PortStateMaster, 1)), // stale: the previous request's
			response(t, req, 2, req.SequenceID, portDS(2, ptp.PortStateMaster, 2)),   // another port's
			response(t, req, 1, req.SequenceID, portDS(1, ptp.PortStateSlave, 1301)), // the answer
		}
	})
	c := dial(t, f, 1)
	tlv, err := c.Get(ptp.IDPortDataSet, 1)
	if err != nil {
		t.Fatal(err)
	}
	pds := tlv.(*PortDataSetTLV)
	if pds.PortState != ptp.PortStateSlave || pds.PeerMeanPathDelay.Nanoseconds() != 1301 || pds.PortIdentity.PortNumber != 1 {
		t.Errorf("got %+v", pds)
	}
}

func TestRepliesOfSeveralPorts(t *testing.T) {
	f := newFake(t, func(req ptp.ManagementMsgHead, id ptp.ManagementID) [][]byte {
		return [][]byte{response(t, req, 1, req.SequenceID, portDS(1, ptp.PortStateSlave, 10)),
			response(t, req, 2, req.SequenceID, portDS(2, ptp.PortStatePassive, 20))}
	})
	c := dial(t, f, 1)
	tlvs, err := c.GetPorts(ptp.IDPortDataSet, 2)
	if err != nil || len(tlvs) != 2 || tlvs[1].(*PortDataSetTLV).PortState != ptp.PortStatePassive {
		t.Fatalf("%v %v", tlvs, err)
	}
	// Three expected, two come: the two and a timeout that says so.
	tlvs, err = c.GetPorts(ptp.IDPortDataSet, 3)
	if len(tlvs) != 2 || !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "2 of 3 ports") {
		t.Errorf("%d replies, %v", len(tlvs), err)
	}
}

func TestErrorStatusReply(t *testing.T) {
	f := newFake(t, func(req ptp.ManagementMsgHead, id ptp.ManagementID) [][]byte {
		head := req
		head.ActionField = ptp.RESPONSE
		head.SourcePortIdentity = ptp.PortIdentity{ClockIdentity: 0xaabbccfffe000001, PortNumber: 1}
		e := &ptp.ManagementMsgErrorStatus{ManagementMsgHead: head, ManagementErrorStatusTLV: ptp.ManagementErrorStatusTLV{
			TLVHead: ptp.TLVHead{TLVType: ptp.TLVManagementErrorStatus, LengthField: 8}, ManagementErrorID: ptp.ErrorNoSuchID, ManagementID: id}}
		b, err := e.MarshalBinary()
		if err != nil {
			t.Error(err)
		}
		return [][]byte{b}
	})
	c := dial(t, f, 1)
	_, err := c.Get(IDPortDataSetNP, 1)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != ptp.ErrorNoSuchID || !strings.Contains(err.Error(), "NO_SUCH_ID to managementId 0xc002") {
		t.Errorf("err %v", err)
	}
}

// A ptp4l that only answers transportSpecific 1 (gPTP): a client sending 0 times out, and Probe
// says why instead of leaving a silent timeout.
func TestWrongTransportSpecificIsExplained(t *testing.T) {
	f := newFake(t, func(req ptp.ManagementMsgHead, id ptp.ManagementID) [][]byte {
		if uint8(req.SdoIDAndMsgType)>>4 != 1 {
			return nil // as ptp4l: silently dropped
		}
		dds := &ptp.DefaultDataSetTLV{ManagementTLVHead: ptp.ManagementTLVHead{TLVHead: ptp.TLVHead{TLVType: ptp.TLVManagement, LengthField: 22}, ManagementID: ptp.IDDefaultDataSet}, NumberPorts: 1}
		return [][]byte{response(t, req, 0, req.SequenceID, dds)}
	})
	c := dial(t, f, 0)
	err := c.Probe()
	if err == nil || !strings.Contains(err.Error(), "ignores management messages with transportSpecific 0 and answers those with 1") {
		t.Errorf("probe: %v", err)
	}
	if c.TransportSpecific != 0 {
		t.Error("Probe changed the client's transportSpecific")
	}
	c.TransportSpecific = 1
	if err := c.Probe(); err != nil {
		t.Errorf("probe with the right value: %v", err)
	}
}

func TestNoPtp4l(t *testing.T) {
	c, err := Dial(filepath.Join(t.TempDir(), "nothing"), t.TempDir(), 1, 0, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Get(ptp.IDCurrentDataSet, AllPorts); err == nil || !strings.Contains(err.Error(), "is ptp4l running") {
		t.Errorf("err %v", err)
	}
}
