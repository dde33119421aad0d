// Package watch polls ptp4l over its management socket, feeds the sync state machine and publishes
// the node's sync status (a JSON file that `tsnctl ptp status` and `tsnctl send --require-sync`
// read). It is what `tsnctl ptp run` and `tsnctl ptp watch` run.
package watch

import (
	"fmt"
	"time"

	ptp "github.com/facebook/time/ptp/protocol"
	"github.com/tsnctl/tsnctl/ptp/mgmt"
	"github.com/tsnctl/tsnctl/ptp/syncstate"
)

// Querier is what the poller needs of a management client (mgmt.Client; a fake in tests).
type Querier interface {
	Get(id ptp.ManagementID, port uint16) (ptp.ManagementTLV, error)
}

// Poller takes samples: TIME_STATUS_NP, PORT_DATA_SET and CURRENT_DATA_SET every poll;
// PARENT_DATA_SET, TIME_PROPERTIES_DATA_SET, PORT_DATA_SET_NP and PORT_STATS_NP every SlowEvery polls.
type Poller struct {
	Q         Querier
	Port      uint16 // ptp4l's port number (1 for a single interface)
	SlowEvery int
	// KernelTAIOffset reads the kernel's TAI offset; PHCOffset measures system clock − PHC (nil
	// when phc2sys does not run).
	KernelTAIOffset func() (int, error)
	PHCOffset       func() (int64, error)

	n    int
	slow Slow
	own  string // the node's clock identity
}

// Slow are the datasets read every few seconds.
type Slow struct {
	UTCOffset      int
	UTCOffsetValid bool
	PTPTimescale   bool
	ASCapable      *bool
	GMPriority1    uint8
	GMClockClass   uint8
	ParentPort     string
	RxSync, TxSync uint64 // PORT_STATS_NP message counters
	Err            string
}

// Extra is what a sample says beyond the state machine's inputs.
type Extra struct {
	Slow        Slow
	PHCOffsetNs *int64
	StepsRemove uint16
}

// Sample takes one sample at now.
func (p *Poller) Sample(now time.Time) (syncstate.Sample, Extra) {
	s := syncstate.Sample{At: now}
	var ex Extra
	if p.SlowEvery < 1 {
		p.SlowEvery = 8
	}
	fail := func(what string, err error) (syncstate.Sample, Extra) {
		s.Answered = false
		s.Error = fmt.Sprintf("%s: %v", what, err)
		return s, ex
	}
	tlv, err := p.Q.Get(ptp.IDTimeStatusNP, mgmt.AllPorts)
	if err != nil {
		return fail("TIME_STATUS_NP", err)
	}
	ts := tlv.(*ptp.TimeStatusNPTLV)
	s.OffsetNs, s.IngressTime, s.GMPresent, s.GMIdentity = ts.MasterOffsetNS, ts.IngressTimeNS, ts.GMPresent != 0, ts.GMIdentity.String()
	tlv, err = p.Q.Get(ptp.IDPortDataSet, p.Port)
	if err != nil {
		return fail("PORT_DATA_SET", err)
	}
	pds := tlv.(*mgmt.PortDataSetTLV)
	s.PortState = pds.PortState.String()
	tlv, err = p.Q.Get(ptp.IDCurrentDataSet, mgmt.AllPorts)
	if err != nil {
		return fail("CURRENT_DATA_SET", err)
	}
	cds := tlv.(*ptp.CurrentDataSetTLV)
	ex.StepsRemove = cds.StepsRemoved
	if pds.DelayMechanism == 2 { // P2P: CURRENT_DATA_SET's meanPathDelay stays 0
		s.PathDelayNs = int64(pds.PeerMeanPathDelay.Nanoseconds())
	} else {
		s.PathDelayNs = int64(cds.MeanPathDelay.Nanoseconds())
	}
	s.Answered = true
	if p.own == "" {
		if tlv, err := p.Q.Get(ptp.IDDefaultDataSet, mgmt.AllPorts); err == nil {
			p.own = tlv.(*ptp.DefaultDataSetTLV).ClockIdentity.String()
		}
	}
	s.OwnIdentity = p.own
	if p.n%p.SlowEvery == 0 {
		p.slow = p.readSlow()
	}
	p.n++
	ex.Slow = p.slow
	s.ASCapable = p.slow.ASCapable
	s.UTCOffset, s.UTCOffsetValid = p.slow.UTCOffset, p.slow.UTCOffsetValid && p.slow.PTPTimescale
	if p.KernelTAIOffset != nil {
		if off, err := p.KernelTAIOffset(); err == nil {
			s.KernelTAIOffset = off
		}
	}
	if p.PHCOffset != nil {
		if off, err := p.PHCOffset(); err == nil {
			s.PHCOffsetNs = &off
			ex.PHCOffsetNs = &off
		}
	}
	return s, ex
}

func (p *Poller) readSlow() Slow {
	var sl Slow
	if tlv, err := p.Q.Get(ptp.IDTimePropertiesDataSet, mgmt.AllPorts); err == nil {
		tp := tlv.(*mgmt.TimePropertiesTLV)
		sl.UTCOffset, sl.UTCOffsetValid, sl.PTPTimescale = int(tp.CurrentUTCOffset), tp.UTCOffsetValid(), tp.PTPTimescale()
	} else {
		sl.Err = "TIME_PROPERTIES_DATA_SET: " + err.Error()
	}
	if tlv, err := p.Q.Get(mgmt.IDPortDataSetNP, p.Port); err == nil {
		v := tlv.(*mgmt.PortDataSetNPTLV).ASCapable != 0
		sl.ASCapable = &v
	} // an E2E ptp4l has no asCapable: leave it unknown
	if tlv, err := p.Q.Get(ptp.IDParentDataSet, mgmt.AllPorts); err == nil {
		pd := tlv.(*ptp.ParentDataSetTLV)
		sl.GMPriority1, sl.GMClockClass = pd.GrandmasterPriority1, uint8(pd.GrandmasterClockQuality.ClockClass)
		sl.ParentPort = pd.ParentPortIdentity.String()
	}
	if tlv, err := p.Q.Get(ptp.IDPortStatsNP, p.Port); err == nil {
		st := tlv.(*ptp.PortStatsNPTLV)
		sl.RxSync, sl.TxSync = st.PortStats.RXMsgType[ptp.MessageSync], st.PortStats.TXMsgType[ptp.MessageSync]
	}
	return sl
}
