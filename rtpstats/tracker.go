package rtpstats

import (
	"fmt"
	"net/netip"
	"sort"
	"time"
)

// Meta is what the capture layer knows about a datagram.
type Meta struct {
	Time     time.Time
	Src, Dst netip.AddrPort
}

// Options configures a Tracker. The zero value gives the defaults.
type Options struct {
	// Interval is the time-series bucket width; 0 means 1 s.
	Interval time.Duration
	// MaxSeries caps the buckets kept per stream; 0 means 7200 (2 h at 1 s).
	MaxSeries int
	// Gmin is the RFC 3611 4.7.2 gap threshold; 0 means 16.
	Gmin int
	// EventPayloadType is the dynamic PT treated as telephone-event when no
	// SDP hint names it; 0 means 101 (Wireshark's rtpevent default), -1
	// disables the guess.
	EventPayloadType int
	// NoPLC rates G.711 with the "no packet-loss concealment" Bpl (4.3)
	// instead of the G.711 Appendix I PLC value (25.1).
	NoPLC bool
	// MaxStreams caps tracked streams; packets of new streams beyond it are
	// counted in Dropped. 0 means 100000.
	MaxStreams int
}

func (o *Options) fill() {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.MaxSeries <= 0 {
		o.MaxSeries = 7200
	}
	if o.Gmin <= 0 {
		o.Gmin = defaultGmin
	}
	if o.EventPayloadType == 0 {
		o.EventPayloadType = defaultEventPT
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = 100000
	}
}

type hintKey struct {
	ep netip.AddrPort
	pt uint8
}

// Tracker holds per-stream state. It is not safe for concurrent use; the
// goroutine that owns the call store owns the Tracker.
type Tracker struct {
	o         Options
	streams   map[streamKey]*stream
	hints     map[hintKey]*codecHint
	callIDs   map[netip.AddrPort]string
	rtcp      rtcpState
	hdr       Header // reused decode target; keeps AddRTP allocation-free
	dropped   int
	malformed int
}

// Counters reports what a Tracker skipped or saw outside streams.
type Counters struct {
	Malformed   int `json:"malformed"`    // AddRTP inputs that failed to parse
	Dropped     int `json:"dropped"`      // packets of new streams refused at MaxStreams
	RTCPPackets int `json:"rtcp_packets"` // RTCP packets decoded (compound members)
	RTCPErrors  int `json:"rtcp_errors"`  // RTCP members that failed to decode
	RTCPApp     int `json:"rtcp_app"`     // APP packets (counted, not interpreted)
}

// Counters returns the skip and RTCP counters.
func (t *Tracker) Counters() Counters {
	return Counters{Malformed: t.malformed, Dropped: t.dropped,
		RTCPPackets: t.rtcp.packets, RTCPErrors: t.rtcp.errors, RTCPApp: t.rtcp.app}
}

// NewTracker returns an empty Tracker.
func NewTracker(o Options) *Tracker {
	o.fill()
	return &Tracker{
		o:       o,
		streams: make(map[streamKey]*stream),
		hints:   make(map[hintKey]*codecHint),
		callIDs: make(map[netip.AddrPort]string),
		rtcp:    newRTCPState(),
	}
}

// SetCodec records an SDP a=rtpmap hint: RTP to or from ep with payload
// type pt carries codec name at clock Hz. Like Wireshark's SDP-created
// conversations, the hint applies to packets whose destination, or failing
// that source, is ep. It affects streams created afterwards and packets of
// existing streams from now on.
func (t *Tracker) SetCodec(ep netip.AddrPort, pt uint8, name string, clock int) {
	if clock < 0 {
		clock = 0
	}
	t.hints[hintKey{ep, pt}] = &codecHint{name: name, clock: uint32(clock)}
}

// SetCallID labels streams to or from ep with a SIP Call-ID.
func (t *Tracker) SetCallID(ep netip.AddrPort, callID string) { t.callIDs[ep] = callID }

func (t *Tracker) hint(m *Meta, pt uint8) *codecHint {
	if len(t.hints) == 0 {
		return nil
	}
	if h := t.hints[hintKey{m.Dst, pt}]; h != nil {
		return h
	}
	if h := t.hints[hintKey{m.Src, pt}]; h != nil {
		return h
	}
	return nil
}

// AddRTP parses pkt as RTP and updates its stream. It does not retain pkt.
// After a stream exists, AddRTP allocates nothing (except amortised growth
// of the time series and DTMF lists).
func (t *Tracker) AddRTP(pkt []byte, m Meta) error {
	h := &t.hdr
	if err := h.Unmarshal(pkt); err != nil {
		t.malformed++
		return fmt.Errorf("rtp from %v: %w", m.Src, err)
	}
	k := streamKey{ssrc: h.SSRC, src: m.Src, dst: m.Dst}
	s := t.streams[k]
	if s == nil {
		if len(t.streams) >= t.o.MaxStreams {
			t.dropped++
			return nil
		}
		s = newStream(k, t.o.Gmin)
		t.streams[k] = s
	}
	s.add(h, m.Time, &t.o, t.hint(&m, h.PayloadType))
	return nil
}

// Streams returns a report for every stream, ordered by start time then
// key. Reports are copies: nothing in them aliases Tracker state.
func (t *Tracker) Streams() []StreamReport {
	out := make([]StreamReport, 0, len(t.streams))
	for _, s := range t.streams {
		out = append(out, t.report(s))
	}
	sortReports(out)
	return out
}

// ExpireBefore removes streams whose last packet is older than cutoff
// (packet time, not wall time) and returns their final reports.
func (t *Tracker) ExpireBefore(cutoff time.Time) []StreamReport {
	var out []StreamReport
	for k, s := range t.streams {
		if s.last.Before(cutoff) {
			out = append(out, t.report(s))
			delete(t.streams, k)
		}
	}
	t.rtcp.expireBefore(cutoff)
	sortReports(out)
	return out
}

func sortReports(r []StreamReport) {
	sort.Slice(r, func(i, j int) bool {
		if !r[i].Start.Equal(r[j].Start) {
			return r[i].Start.Before(r[j].Start)
		}
		if r[i].SSRC != r[j].SSRC {
			return r[i].SSRC < r[j].SSRC
		}
		if c := r[i].Src.Compare(r[j].Src); c != 0 {
			return c < 0
		}
		return r[i].Dst.Compare(r[j].Dst) < 0
	})
}
