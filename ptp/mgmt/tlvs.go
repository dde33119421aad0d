package mgmt

import (
	"bytes"
	"encoding/binary"
	"fmt"

	ptp "github.com/facebook/time/ptp/protocol"
)

// Management IDs facebook/time has no decoder for; tsnctl registers its own.
const (
	IDPortDataSetNP ptp.ManagementID = 0xC002 // linuxptp PORT_DATA_SET_NP
)

// PortDataSetTLV is PORT_DATA_SET (IEEE 1588-2019 Table 87 / 15.5.3.7.1).
type PortDataSetTLV struct {
	ptp.ManagementTLVHead

	PortIdentity            ptp.PortIdentity
	PortState               ptp.PortState
	LogMinDelayReqInterval  int8
	PeerMeanPathDelay       ptp.TimeInterval
	LogAnnounceInterval     int8
	AnnounceReceiptTimeout  uint8
	LogSyncInterval         int8
	DelayMechanism          uint8
	LogMinPdelayReqInterval int8
	VersionNumber           uint8
}

// TimePropertiesTLV is TIME_PROPERTIES_DATA_SET (15.5.3.6.1).
type TimePropertiesTLV struct {
	ptp.ManagementTLVHead

	CurrentUTCOffset int16
	Flags            uint8 // bit 0 leap61, 1 leap59, 2 currentUtcOffsetValid, 3 ptpTimescale, 4 timeTraceable, 5 frequencyTraceable
	TimeSource       uint8
}

// UTCOffsetValid reports the currentUtcOffsetValid flag.
func (t *TimePropertiesTLV) UTCOffsetValid() bool { return t.Flags&(1<<2) != 0 }

// PTPTimescale reports the ptpTimescale flag.
func (t *TimePropertiesTLV) PTPTimescale() bool { return t.Flags&(1<<3) != 0 }

// PortDataSetNPTLV is linuxptp's PORT_DATA_SET_NP: the gPTP port facts 1588 has no place for.
// Network byte order (unlike PORT_STATS_NP).
type PortDataSetNPTLV struct {
	ptp.ManagementTLVHead

	NeighborPropDelayThresh uint32
	ASCapable               int32
}

func init() {
	ptp.RegisterMgmtTLVDecoder(ptp.IDPortDataSet, func(data []byte) (ptp.ManagementTLV, error) {
		v := &PortDataSetTLV{}
		if err := binary.Read(bytes.NewReader(data), binary.BigEndian, v); err != nil {
			return nil, fmt.Errorf("decoding PORT_DATA_SET: %w", err)
		}
		return v, nil
	})
	ptp.RegisterMgmtTLVDecoder(ptp.IDTimePropertiesDataSet, func(data []byte) (ptp.ManagementTLV, error) {
		v := &TimePropertiesTLV{}
		if err := binary.Read(bytes.NewReader(data), binary.BigEndian, v); err != nil {
			return nil, fmt.Errorf("decoding TIME_PROPERTIES_DATA_SET: %w", err)
		}
		return v, nil
	})
	ptp.RegisterMgmtTLVDecoder(IDPortDataSetNP, func(data []byte) (ptp.ManagementTLV, error) {
		v := &PortDataSetNPTLV{}
		if err := binary.Read(bytes.NewReader(data), binary.BigEndian, v); err != nil {
			return nil, fmt.Errorf("decoding PORT_DATA_SET_NP: %w", err)
		}
		return v, nil
	})
}
