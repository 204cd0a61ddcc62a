package rtpstats

import (
	"fmt"

	"net/netip"
	"time"
)

// SeriesPoint is one interval of a stream's time series.
type SeriesPoint struct {
	Start   time.Time `json:"start"`
	Packets int       `json:"packets"`
	// Lost is the interval's span of new highest sequence numbers minus
	// its packets that were not duplicates, never negative. A packet
	// reordered across an interval boundary is credited to the interval
	// it arrived in, so one interval may show a loss the next one repays;
	// the stream's Lost is exact.
	Lost        int     `json:"lost"`
	MaxJitterMs float64 `json:"max_jitter_ms"`
	MOS         float64 `json:"mos"`
}

// StreamReport is a JSON-ready copy of one stream's statistics. The
// Wireshark-compatible fields (packets … max_skew_ms) follow
// ui/tap-rtp-analysis.c exactly: min values are -1 when no regular packet
// was seen, jitter fields are 0/-1 when the clock rate is unknown (dynamic
// PT without an rtpmap hint), and lost_tshark = expected − packets, which
// duplicates make smaller (negative when they outnumber the losses).
//
// Lost is not tshark's: it is the number of distinct sequence numbers in
// the stream's range (lowest to highest extended sequence number
// received) that never arrived, so a duplicate cannot hide a loss (the
// three RFC 4733 end-of-event packets share one sequence number). The
// fate of each sequence number is kept in a sliding bitmap of seqWindow
// (1024) numbers behind the highest; a number that leaves it unreceived
// is lost for good, and a packet arriving after that counts in Late and
// stays counted in Lost. LostPct is Lost over that range. Known limit: a
// sender that restarts its sequence numbers more than 1024 (and less than
// 32768) below the highest, keeping its SSRC, has every later packet
// counted as late; RFC 3550 A.1's resynchronisation is not applied. The E-model,
// the jitter-buffer models, the burst/gap statistics and the loss
// histogram all use Lost.
type StreamReport struct {
	CallID string `json:"call_id"`
	// Link says how CallID was found: LinkSDP (exact SDP endpoint),
	// LinkNATPort (a port guess behind NAT: treat as a hint, not a
	// fact) or "" (not linked).
	Link string `json:"link"`
	// SDPEndpoint is the SDP media endpoint the link rests on.
	SDPEndpoint netip.AddrPort `json:"sdp_endpoint"`
	// CallIDs lists every call the stream belongs to when there are
	// several (B2BUA legs after media bypass, both announcing both ends;
	// or the candidates of an ambiguous link), CallID first.
	CallIDs []string `json:"call_ids"`
	SSRC    uint32   `json:"ssrc"`
	// SSRCHex is SSRC as every screen and tshark show it ("0x9A7B5382").
	SSRCHex     string         `json:"ssrc_hex"`
	Src         netip.AddrPort `json:"src"`
	Dst         netip.AddrPort `json:"dst"`
	PayloadType uint8          `json:"payload_type"`
	Codec       string         `json:"codec"`
	ClockRate   uint32         `json:"clock_rate"`
	Start       time.Time      `json:"start"`
	End         time.Time      `json:"end"`

	Packets      int     `json:"packets"`
	Expected     int     `json:"expected"` // tshark's: last − first sequence number + 1, with its cycle count
	Lost         int     `json:"lost"`     // distinct sequence numbers never received, ≥ 0
	LostPct      float64 `json:"lost_pct"`
	LostTshark   int     `json:"lost_tshark"` // expected − packets, as tshark -z rtp,streams
	Duplicates   int     `json:"duplicates"`
	OutOfOrder   int     `json:"out_of_order"`
	Late         int     `json:"late"`       // arrived more than 1024 sequence numbers late; also counted in lost
	SeqErrors    int     `json:"seq_errors"` // Wireshark's "wrong sequence" count
	MinDeltaMs   float64 `json:"min_delta_ms"`
	MeanDeltaMs  float64 `json:"mean_delta_ms"`
	MaxDeltaMs   float64 `json:"max_delta_ms"`
	MinJitterMs  float64 `json:"min_jitter_ms"`
	MeanJitterMs float64 `json:"mean_jitter_ms"`
	MaxJitterMs  float64 `json:"max_jitter_ms"`
	MaxSkewMs    float64 `json:"max_skew_ms"`

	BurstLoss     BurstStats       `json:"burst_loss"`
	LossHistogram [histBuckets]int `json:"loss_histogram"` // runs of 1..9, 10+ lost packets
	PacketMs      float64          `json:"packet_ms"`      // packetisation from timestamps

	RFactor     float64 `json:"r_factor"`
	MOS         float64 `json:"mos"`
	MOSJB50     float64 `json:"mos_jb50"`
	MOSJB200    float64 `json:"mos_jb200"`
	MOSAdaptive float64 `json:"mos_adaptive"`
	// Quality holds the E-model inputs of MOS; QualityJB50, QualityJB200
	// and QualityAdaptive those of the jitter-buffer variants.
	Quality         Assessment `json:"quality"`
	QualityJB50     Assessment `json:"quality_jb50"`
	QualityJB200    Assessment `json:"quality_jb200"`
	QualityAdaptive Assessment `json:"quality_adaptive"`

	RTCP          *RTCPSummary  `json:"rtcp"`
	DTMF          []DTMFEvent   `json:"dtmf"`
	BadEvents     int           `json:"bad_events"` // telephone-event payloads too short
	Series        []SeriesPoint `json:"series"`
	SeriesDropped int           `json:"series_dropped"`
}

// Explain returns the E-model inputs and result behind MOS.
func (r *StreamReport) Explain() Assessment { return r.Quality }

// report builds the report of s. A brief one leaves out the parts that
// cost a copy (Series, DTMF, RTCP reports) but keeps every figure,
// including the MOS (the RTT of RTCP still counts in its delay).
func (t *Tracker) report(s *stream, full bool) StreamReport {
	w := &s.ws
	exp := w.expected()
	r := StreamReport{
		SSRCHex: fmt.Sprintf("0x%08X", s.key.ssrc),
		SSRC:    s.key.ssrc, Src: s.key.src, Dst: s.key.dst,
		PayloadType: s.pt, Codec: s.codec, ClockRate: s.clock,
		Start: s.first, End: s.last,
		Packets: w.totalNr, Expected: exp, LostTshark: exp - w.totalNr,
		Duplicates: s.dups, OutOfOrder: s.ooo, Late: s.late, SeqErrors: w.sequence,
		MinDeltaMs: w.minDelta, MeanDeltaMs: w.meanDelta, MaxDeltaMs: w.maxDelta,
		MinJitterMs: w.minJitter, MeanJitterMs: w.meanJitter, MaxJitterMs: w.maxJitter,
		MaxSkewMs:     w.maxSkew,
		PacketMs:      s.frameMs,
		BadEvents:     s.badEvents,
		SeriesDropped: s.seriesCut,
	}
	l := s.flushLoss()
	r.Lost = l.lostTot
	span := 0
	if w.started {
		span = int(s.maxExt-s.minExt) + 1
	}
	if span > 0 {
		r.LostPct = float64(r.Lost) * 100 / float64(span)
	}
	r.CallID, r.CallIDs, r.Link, r.SDPEndpoint = t.callOf(s)
	frame := s.frameMs
	if frame == 0 {
		frame = 20 // the common default ptime when timestamps could not tell
	}
	r.BurstLoss, r.LossHistogram = l.stats(frame)

	oneWay := 0.0
	if full {
		r.RTCP = t.rtcp.summary(s.key.ssrc, s.clock)
		if r.RTCP != nil && r.RTCP.HasRTT {
			oneWay = r.RTCP.RTTMs / 2
		}
	} else if rs := t.rtcp.bySSRC[s.key.ssrc]; rs != nil && rs.sum.HasRTT {
		oneWay = rs.sum.RTTMs / 2
	}
	ppl := func(extra int) float64 {
		if span <= 0 {
			return 0
		}
		return float64(r.Lost+extra) * 100 / float64(span)
	}
	plc := !t.o.NoPLC
	br := r.BurstLoss.BurstR
	r.Quality = t.emodel.assess(s.codec, plc, ppl(0), br, oneWay+frame)
	jb := func(j *jbSim) Assessment {
		a := t.emodel.assess(s.codec, plc, ppl(j.late), br, oneWay+frame+j.meanDepthMs())
		a.LateLost = j.late
		return a
	}
	r.QualityJB50, r.QualityJB200, r.QualityAdaptive = jb(&s.jb[0]), jb(&s.jb[1]), jb(&s.jb[2])
	r.RFactor, r.MOS = r.Quality.R, r.Quality.MOS
	r.MOSJB50, r.MOSJB200, r.MOSAdaptive = r.QualityJB50.MOS, r.QualityJB200.MOS, r.QualityAdaptive.MOS

	if !full {
		return r
	}
	events := s.events
	if s.dtmf.active {
		events = append(events[:len(events):len(events)], s.dtmf.cur)
	}
	if len(events) > 0 {
		r.DTMF = append([]DTMFEvent(nil), events...)
	}
	if len(s.series) > 0 {
		r.Series = make([]SeriesPoint, len(s.series))
		// Most intervals have the loss of the one before (none, usually):
		// the E-model (powers and logs) runs once per distinct loss.
		lastPl, lastMOS := -1.0, 0.0
		for i, b := range s.series {
			e := int(b.maxExtHi - b.maxExtLo)
			lost := max(e-(b.packets-b.dups), 0)
			p := SeriesPoint{Start: b.start, Packets: b.packets, Lost: lost, MaxJitterMs: b.maxJitter}
			pl := 0.0
			if e > 0 {
				pl = float64(lost) * 100 / float64(e)
			}
			if pl != lastPl {
				lastPl, lastMOS = pl, t.emodel.assess(s.codec, plc, pl, 1, oneWay+frame).MOS
			}
			p.MOS = lastMOS
			r.Series[i] = p
		}
	}
	return r
}
