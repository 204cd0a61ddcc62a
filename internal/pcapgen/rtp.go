package pcapgen

import (
	"encoding/binary"
	"time"

	"github.com/pion/rtcp"
)

// RTP payload types (RFC 3551 table 4) and the dynamic one we give to
// RFC 4733 telephone-events.
const (
	PTPCMU = 0
	PTPCMA = 8
	PTCN   = 13 // comfort noise, RFC 3389
	PTDTMF = 101

	G711Samples  = 160 // 20 ms at 8 kHz (RFC 3551 4.5.14)
	G711Interval = 20 * time.Millisecond
	rtpHeaderLen = 12
	pcmuSilence  = 0xff // µ-law code for zero amplitude
)

// RTP is one RTP packet (RFC 3550 5.1), version 2, no CSRC/extension.
type RTP struct {
	PT      uint8
	Marker  bool
	Seq     uint16
	TS      uint32
	SSRC    uint32
	Payload []byte
}

// Bytes serialises the packet.
func (p RTP) Bytes() []byte {
	b := make([]byte, rtpHeaderLen, rtpHeaderLen+len(p.Payload))
	b[0] = 0x80
	b[1] = p.PT & 0x7f
	if p.Marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], p.Seq)
	binary.BigEndian.PutUint32(b[4:], p.TS)
	binary.BigEndian.PutUint32(b[8:], p.SSRC)
	return append(b, p.Payload...)
}

// G711Payload returns a 160-byte µ-law payload: a quiet deterministic
// tone pattern varying with n, so packets are not all identical.
func G711Payload(n int) []byte {
	b := make([]byte, G711Samples)
	for i := range b {
		b[i] = pcmuSilence - byte((i+n)%16)
	}
	return b
}

// DTMFEvent returns an RFC 4733 section 2.3 telephone-event payload.
func DTMFEvent(event uint8, end bool, volume uint8, duration uint16) []byte {
	b := []byte{event, volume & 0x3f, 0, 0}
	if end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], duration)
	return b
}

// ntpEpochOffset is the seconds between 1900-01-01 and 1970-01-01
// (RFC 5905 section 6).
const ntpEpochOffset = 2208988800

// NTPTime converts t to the 64-bit NTP format used in RTCP SR.
func NTPTime(t time.Time) uint64 {
	sec := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return sec<<32 | frac
}

// RTCPReport describes one RTCP compound packet (RFC 3550 6.1): an SR
// (or an RR when Sender is false) followed by an SDES CNAME.
type RTCPReport struct {
	SSRC, RemoteSSRC uint32
	Sender           bool
	At               time.Time
	RTPTime          uint32
	Packets, Octets  uint32
	FractionLost     uint8
	TotalLost        uint32
	HighestSeq       uint32
	Jitter           uint32
	CNAME            string
}

// Bytes builds the compound packet with github.com/pion/rtcp.
func (r RTCPReport) Bytes() []byte {
	rep := rtcp.ReceptionReport{SSRC: r.RemoteSSRC, FractionLost: r.FractionLost,
		TotalLost: r.TotalLost, LastSequenceNumber: r.HighestSeq, Jitter: r.Jitter}
	var first rtcp.Packet
	if r.Sender {
		first = &rtcp.SenderReport{SSRC: r.SSRC, NTPTime: NTPTime(r.At), RTPTime: r.RTPTime,
			PacketCount: r.Packets, OctetCount: r.Octets, Reports: []rtcp.ReceptionReport{rep}}
	} else {
		first = &rtcp.ReceiverReport{SSRC: r.SSRC, Reports: []rtcp.ReceptionReport{rep}}
	}
	b, err := rtcp.Marshal([]rtcp.Packet{first, rtcp.NewCNAMESourceDescription(r.SSRC, r.CNAME)})
	if err != nil {
		panic("pcapgen: rtcp marshal: " + err.Error()) // fixed, valid fields only
	}
	return b
}
