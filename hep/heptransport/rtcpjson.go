package heptransport

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/rtcp"
	"github.com/voiptool/voiptool/hep"
)

// rtcpJSON is the RTCP report HOMER stores for HEP protocol type 5. Field
// names, nesting and order follow what heplify sends (protos/rtcp.go,
// RTCP_Packet) and heplify-server reads (report_blocks[0].fraction_lost,
// report_blocks_xr.end_system_delay, ...). Like heplify, a compound packet
// folds into one object: report blocks accumulate, type/report_count are
// those of the last packet, NTP words are raw (ntp_timestamp_usec is the
// NTP fraction, not microseconds), packets_lost is the raw 24-bit field.
type rtcpJSON struct {
	SenderInformation rtcpSenderInfo    `json:"sender_information"`
	SSRC              uint32            `json:"ssrc"`
	Type              uint8             `json:"type"`
	ReportCount       uint8             `json:"report_count"`
	ReportBlocks      []rtcpReportBlock `json:"report_blocks"`
	ReportBlocksXR    rtcpXRBlock       `json:"report_blocks_xr"`
	SDESSSRC          uint32            `json:"sdes_ssrc"`
}

type rtcpSenderInfo struct {
	NTPSec  uint32 `json:"ntp_timestamp_sec"`
	NTPFrac uint32 `json:"ntp_timestamp_usec"`
	RTPTime uint32 `json:"rtp_timestamp"`
	Packets uint32 `json:"packets"`
	Octets  uint32 `json:"octets"`
}

type rtcpReportBlock struct {
	SourceSSRC   uint32 `json:"source_ssrc"`
	FractionLost uint8  `json:"fraction_lost"`
	PacketsLost  uint32 `json:"packets_lost"`
	HighestSeqNo uint32 `json:"highest_seq_no"`
	Jitter       uint32 `json:"ia_jitter"`
	LSR          uint32 `json:"lsr"`
	DLSR         uint32 `json:"dlsr"`
}

// rtcpXRBlock carries the RFC 3611 section 4.7 VoIP Metrics block (BT=7).
type rtcpXRBlock struct {
	Type            uint8  `json:"type"`
	ID              uint32 `json:"id"`
	FractionLost    uint8  `json:"fraction_lost"`
	FractionDiscard uint8  `json:"fraction_discard"`
	BurstDensity    uint8  `json:"burst_density"`
	GapDensity      uint8  `json:"gap_density"`
	BurstDuration   uint16 `json:"burst_duration"`
	GapDuration     uint16 `json:"gap_duration"`
	RoundTripDelay  uint16 `json:"round_trip_delay"`
	EndSystemDelay  uint16 `json:"end_system_delay"`
}

// RTCP packet types (RFC 3550 section 12.1, RFC 3611 section 2).
const (
	rtcpSR   = 200
	rtcpRR   = 201
	rtcpSDES = 202
	rtcpBYE  = 203
	rtcpAPP  = 204
	rtcpXR   = 207
)

// RTCPJSON converts raw (a compound) RTCP packet to the JSON report HOMER
// expects in HEP protocol type 5. It allocates (it is per RTCP report, a few
// per second per stream).
func RTCPJSON(raw []byte) ([]byte, error) {
	pkts, err := rtcp.Unmarshal(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %d bytes: %w", ErrBadRTCP, len(raw), err)
	}
	out := rtcpJSON{ReportBlocks: []rtcpReportBlock{}}
	addBlocks := func(rs []rtcp.ReceptionReport) {
		for _, r := range rs {
			out.ReportBlocks = append(out.ReportBlocks, rtcpReportBlock{
				SourceSSRC: r.SSRC, FractionLost: r.FractionLost, PacketsLost: r.TotalLost,
				HighestSeqNo: r.LastSequenceNumber, Jitter: r.Jitter, LSR: r.LastSenderReport, DLSR: r.Delay,
			})
		}
	}
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			out.Type, out.ReportCount, out.SSRC = rtcpSR, uint8(len(p.Reports)), p.SSRC
			out.SenderInformation = rtcpSenderInfo{uint32(p.NTPTime >> 32), uint32(p.NTPTime), p.RTPTime, p.PacketCount, p.OctetCount}
			addBlocks(p.Reports)
		case *rtcp.ReceiverReport:
			out.Type, out.ReportCount, out.SSRC = rtcpRR, uint8(len(p.Reports)), p.SSRC
			addBlocks(p.Reports)
		case *rtcp.SourceDescription:
			out.Type, out.ReportCount = rtcpSDES, uint8(len(p.Chunks))
			if len(p.Chunks) > 0 {
				out.SDESSSRC = p.Chunks[0].Source
			}
		case *rtcp.Goodbye:
			out.Type, out.ReportCount = rtcpBYE, uint8(len(p.Sources))
		case *rtcp.ApplicationDefined:
			out.Type, out.ReportCount = rtcpAPP, p.SubType
		case *rtcp.ExtendedReport:
			out.Type, out.ReportCount, out.SSRC = rtcpXR, 0, p.SenderSSRC
			for _, b := range p.Reports {
				if v, ok := b.(*rtcp.VoIPMetricsReportBlock); ok {
					out.ReportBlocksXR = rtcpXRBlock{
						Type: uint8(v.XRHeader.BlockType), ID: v.SSRC, FractionLost: v.LossRate,
						FractionDiscard: v.DiscardRate, BurstDensity: v.BurstDensity, GapDensity: v.GapDensity,
						BurstDuration: v.BurstDuration, GapDuration: v.GapDuration,
						RoundTripDelay: v.RoundTripDelay, EndSystemDelay: v.EndSystemDelay,
					}
					break
				}
			}
		}
	}
	b, err := json.Marshal(&out)
	if err != nil {
		return nil, fmt.Errorf("heptransport: RTCP JSON: %w", err)
	}
	return b, nil
}

// RTCPJSONPacket builds the HEP protocol type 5 packet for one captured
// RTCP datagram: the payload is RTCPJSON(raw), and correlationID (chunk
// 0x0011) should be the Call-ID of the SIP dialog that negotiated the
// stream, which is how HOMER attaches the report to the call.
func RTCPJSONPacket(raw []byte, src, dst netip.AddrPort, t time.Time, correlationID []byte) (hep.Packet, error) {
	js, err := RTCPJSON(raw)
	if err != nil {
		return hep.Packet{}, err
	}
	p := SIPPacket(js, src, dst, t, ProtoUDP)
	p.ProtoType = hep.ProtoRTCPJSON
	p.CorrelationID = correlationID
	return p, nil
}
