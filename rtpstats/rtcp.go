package rtpstats

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/pion/rtcp"
)

// RTCP constants (RFC 3550 6.4, RFC 3611 4.7).
const (
	rtcpHeaderLen = 4
	// srRing is how many recent SRs per sender we remember for LSR matching.
	srRing = 8
	// xrUnavailable is RFC 3611 4.7.5/4.7.6's "not available" (127).
	xrUnavailable = 127
	// ntpFracPerSec: DLSR is in units of 1/65536 s (RFC 3550 6.4.1).
	dlsrUnitsPerSec = 65536
)

// RTCPReport is the latest statistics one reporter sent about one media
// source: a reception report block (from an SR or RR) and/or an RFC 3611
// VoIP-metrics block.
type RTCPReport struct {
	Reporter       uint32         `json:"reporter_ssrc"`
	From           netip.AddrPort `json:"from"`
	Time           time.Time      `json:"time"`
	Type           string         `json:"type"` // "sr", "rr" (the packet that carried the block)
	FractionLost   float64        `json:"fraction_lost"`
	CumulativeLost int32          `json:"cumulative_lost"` // signed 24-bit (RFC 3550 6.4.1)
	HighestSeq     uint32         `json:"highest_seq"`
	JitterTS       uint32         `json:"jitter_ts"` // timestamp units as sent
	JitterMs       float64        `json:"jitter_ms"` // using the source stream's clock; 0 if unknown
	RTTMs          float64        `json:"rtt_ms"`
	HasRTT         bool           `json:"has_rtt"`
	Reports        int            `json:"reports"` // blocks received from this reporter
	// RFC 3611 4.7 VoIP metrics, when the reporter sent them.
	XR *XRVoIP `json:"xr"`
}

// XRVoIP is the useful part of an RFC 3611 4.7 VoIP Metrics Report Block.
type XRVoIP struct {
	LossRate     float64 `json:"loss_rate"`    // fraction
	DiscardRate  float64 `json:"discard_rate"` // fraction
	BurstDensity float64 `json:"burst_density"`
	GapDensity   float64 `json:"gap_density"`
	BurstMs      int     `json:"burst_duration_ms"`
	GapMs        int     `json:"gap_duration_ms"`
	RTTMs        int     `json:"round_trip_delay_ms"`
	EndSystemMs  int     `json:"end_system_delay_ms"`
	RFactor      int     `json:"r_factor"` // -1 when unavailable
	MOSLQ        float64 `json:"mos_lq"`   // 0 when unavailable
	MOSCQ        float64 `json:"mos_cq"`
	Gmin         int     `json:"gmin"`
}

// RTCPSummary is everything RTCP said about one SSRC.
type RTCPSummary struct {
	Reports       []RTCPReport `json:"reports"`
	SenderReports int          `json:"sender_reports"` // SRs sent by this SSRC
	SenderPackets uint32       `json:"sender_packets"`
	SenderOctets  uint32       `json:"sender_octets"`
	CNAME         string       `json:"cname"`
	Bye           bool         `json:"bye"`
	ByeReason     string       `json:"bye_reason"`
	RTTMs         float64      `json:"rtt_ms"` // latest RTT any reporter allowed us to compute
	HasRTT        bool         `json:"has_rtt"`
}

type srSeen struct {
	ntpMid uint32
	at     time.Time
}

type ssrcRTCP struct {
	sum       RTCPSummary
	reporters map[uint32]int // reporter SSRC -> index in sum.Reports
	srs       [srRing]srSeen
	srNext    int
	last      time.Time
}

type rtcpState struct {
	bySSRC map[uint32]*ssrcRTCP
	max    int // Options.MaxRTCP
	// Packets counts RTCP packets (compound members) decoded; Errors
	// those that failed; App counts APP packets (kept as counts only).
	packets, errors, app int
	// SSRCs forgotten idle (Tracker.expireRTCP) or evicted at max, and
	// reporters replaced beyond maxReporters.
	expired, evicted, reportersEvicted int
	scratch                            []int64
}

func newRTCPState(max int) rtcpState {
	return rtcpState{bySSRC: make(map[uint32]*ssrcRTCP), max: max}
}

// get returns the state of ssrc, made at packet time now when new.
func (r *rtcpState) get(ssrc uint32, now time.Time) *ssrcRTCP {
	s := r.bySSRC[ssrc]
	if s == nil {
		if len(r.bySSRC) >= r.max {
			r.evict()
		}
		s = &ssrcRTCP{reporters: make(map[uint32]int), last: now}
		r.bySSRC[ssrc] = s
	}
	return s
}

// evict forgets the longest-idle batch of SSRCs of a full table.
func (r *rtcpState) evict() {
	sc := r.scratch[:0]
	for _, s := range r.bySSRC {
		sc = append(sc, s.last.UnixNano())
	}
	slices.Sort(sc)
	cut := sc[max(1, len(sc)/evictBatch)-1]
	r.scratch = sc
	for k, s := range r.bySSRC {
		if s.last.UnixNano() <= cut {
			delete(r.bySSRC, k)
			r.evicted++
		}
	}
}

// AddRTCP decodes a (compound) RTCP datagram. Each member packet is decoded
// separately, so one malformed member does not discard the others; the
// first error is returned after the rest were processed.
func (t *Tracker) AddRTCP(pkt []byte, m Meta) error {
	t.gen++
	t.tick(m.Time)
	var firstErr error
	fail := func(off int, err error) {
		t.rtcp.errors++
		if firstErr == nil {
			firstErr = fmt.Errorf("%w: from %v at offset %d: %w", ErrRTCP, m.Src, off, err)
		}
	}
	for off := 0; off < len(pkt); {
		if len(pkt)-off < rtcpHeaderLen {
			fail(off, ErrTruncated)
			break
		}
		if v := pkt[off] >> versionShift; v != rtpVersion {
			fail(off, fmt.Errorf("%w: %d", ErrBadVersion, v))
			break
		}
		n := 4 * (int(binary.BigEndian.Uint16(pkt[off+2:])) + 1)
		if off+n > len(pkt) {
			fail(off, fmt.Errorf("%w: length %d, %d bytes left", ErrTruncated, n, len(pkt)-off))
			break
		}
		ps, err := rtcp.Unmarshal(pkt[off : off+n])
		if err != nil {
			fail(off, err)
		}
		for _, p := range ps {
			t.rtcpPacket(p, m)
		}
		off += n
	}
	return firstErr
}

func (t *Tracker) rtcpPacket(p rtcp.Packet, m Meta) {
	t.rtcp.packets++
	switch p := p.(type) {
	case *rtcp.SenderReport:
		s := t.rtcp.get(p.SSRC, m.Time)
		s.sum.SenderReports++
		s.sum.SenderPackets, s.sum.SenderOctets = p.PacketCount, p.OctetCount
		// LSR is the middle 32 bits of the 64-bit NTP timestamp.
		s.srs[s.srNext%srRing] = srSeen{ntpMid: uint32(p.NTPTime >> 16), at: m.Time}
		s.srNext++
		s.last = m.Time
		for i := range p.Reports {
			t.reception(p.SSRC, "sr", &p.Reports[i], m)
		}
	case *rtcp.ReceiverReport:
		for i := range p.Reports {
			t.reception(p.SSRC, "rr", &p.Reports[i], m)
		}
	case *rtcp.SourceDescription:
		for _, c := range p.Chunks {
			for _, it := range c.Items {
				if it.Type == rtcp.SDESCNAME {
					s := t.rtcp.get(c.Source, m.Time)
					s.sum.CNAME = it.Text
					s.last = m.Time
				}
			}
		}
	case *rtcp.Goodbye:
		for _, src := range p.Sources {
			s := t.rtcp.get(src, m.Time)
			s.sum.Bye, s.sum.ByeReason = true, p.Reason
			s.last = m.Time
		}
	case *rtcp.ExtendedReport:
		for _, b := range p.Reports {
			if v, ok := b.(*rtcp.VoIPMetricsReportBlock); ok {
				t.xrVoIP(p.SenderSSRC, v, m)
			}
		}
	case *rtcp.ApplicationDefined:
		t.rtcp.app++
	}
}

func (t *Tracker) rtcpReport(ssrc, reporter uint32, m Meta) *RTCPReport {
	s := t.rtcp.get(ssrc, m.Time)
	s.last = m.Time
	i, ok := s.reporters[reporter]
	switch {
	case ok:
	case len(s.sum.Reports) < maxReporters:
		i = len(s.sum.Reports)
		s.reporters[reporter] = i
		s.sum.Reports = append(s.sum.Reports, RTCPReport{Reporter: reporter})
	default:
		// Full: the reporter heard from longest ago makes way.
		i = 0
		for j := range s.sum.Reports {
			if s.sum.Reports[j].Time.Before(s.sum.Reports[i].Time) {
				i = j
			}
		}
		delete(s.reporters, s.sum.Reports[i].Reporter)
		s.reporters[reporter] = i
		s.sum.Reports[i] = RTCPReport{Reporter: reporter}
		t.rtcp.reportersEvicted++
	}
	r := &s.sum.Reports[i]
	r.From, r.Time = m.Src, m.Time
	return r
}

func (t *Tracker) reception(reporter uint32, typ string, b *rtcp.ReceptionReport, m Meta) {
	r := t.rtcpReport(b.SSRC, reporter, m)
	r.Type = typ
	r.Reports++
	r.FractionLost = float64(b.FractionLost) / 256
	// TotalLost is a signed 24-bit field.
	r.CumulativeLost = int32(b.TotalLost<<8) >> 8
	r.HighestSeq = b.LastSequenceNumber
	r.JitterTS = b.Jitter
	r.HasRTT, r.RTTMs = false, 0
	if b.LastSenderReport == 0 {
		return
	}
	src := t.rtcp.get(b.SSRC, m.Time)
	for _, sr := range src.srs {
		if sr.ntpMid == b.LastSenderReport && !sr.at.IsZero() {
			// RTT as seen from the capture point (RFC 3550 6.4.1, A − LSR −
			// DLSR, with capture times standing in for NTP): exact when
			// captured at the SR sender, else off by the path between.
			rtt := m.Time.Sub(sr.at) - time.Duration(float64(b.Delay)/dlsrUnitsPerSec*float64(time.Second))
			if rtt >= 0 {
				r.RTTMs = float64(rtt) / float64(time.Millisecond)
				r.HasRTT = true
				src.sum.RTTMs, src.sum.HasRTT = r.RTTMs, true
			}
			break
		}
	}
}

func (t *Tracker) xrVoIP(reporter uint32, v *rtcp.VoIPMetricsReportBlock, m Meta) {
	r := t.rtcpReport(v.SSRC, reporter, m)
	x := &XRVoIP{
		LossRate:     float64(v.LossRate) / 256,
		DiscardRate:  float64(v.DiscardRate) / 256,
		BurstDensity: float64(v.BurstDensity) / 256,
		GapDensity:   float64(v.GapDensity) / 256,
		BurstMs:      int(v.BurstDuration),
		GapMs:        int(v.GapDuration),
		RTTMs:        int(v.RoundTripDelay),
		EndSystemMs:  int(v.EndSystemDelay),
		RFactor:      -1,
		Gmin:         int(v.Gmin),
	}
	if v.RFactor != xrUnavailable {
		x.RFactor = int(v.RFactor)
	}
	// MOS values are sent multiplied by 10 (RFC 3611 4.7.5).
	if v.MOSLQ != xrUnavailable {
		x.MOSLQ = float64(v.MOSLQ) / 10
	}
	if v.MOSCQ != xrUnavailable {
		x.MOSCQ = float64(v.MOSCQ) / 10
	}
	r.XR = x
}

// summary returns a deep copy of what RTCP said about ssrc, with jitter
// converted using clock, or nil.
func (r *rtcpState) summary(ssrc uint32, clock uint32) *RTCPSummary {
	s := r.bySSRC[ssrc]
	if s == nil {
		return nil
	}
	out := s.sum
	out.Reports = make([]RTCPReport, len(s.sum.Reports))
	copy(out.Reports, s.sum.Reports)
	for i := range out.Reports {
		if x := out.Reports[i].XR; x != nil {
			c := *x
			out.Reports[i].XR = &c
		}
		if clock != 0 {
			out.Reports[i].JitterMs = float64(out.Reports[i].JitterTS) * 1000 / float64(clock)
		}
	}
	return &out
}
