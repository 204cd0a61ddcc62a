package pcapgen

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// kind says what an application payload is, so counts come from the
// definition rather than from decoding.
type kind int

const (
	kindSIP kind = iota
	kindRTP
	kindRTCP
	kindOther
)

// event is one application-level datagram/message before transport and
// link encoding.
type event struct {
	t        time.Time
	src, dst netip.AddrPort
	kind     kind
	payload  []byte
	callID   string
}

// timeline collects events; encode sorts them stably by time.
type timeline struct{ ev []event }

func (tl *timeline) sip(t time.Time, src, dst netip.AddrPort, m *SIPMsg) {
	tl.ev = append(tl.ev, event{t: t, src: src, dst: dst, kind: kindSIP, payload: m.Bytes(), callID: m.CallID})
}

func (tl *timeline) add(t time.Time, src, dst netip.AddrPort, k kind, p []byte) {
	tl.ev = append(tl.ev, event{t: t, src: src, dst: dst, kind: k, payload: p})
}

func (tl *timeline) sorted() []event {
	ev := slices.Clone(tl.ev)
	slices.SortStableFunc(ev, func(a, b event) int { return a.t.Compare(b.t) })
	return ev
}

// count adds the event kinds to w.
func countEvents(w *Expect, ev []event) {
	for _, e := range ev {
		switch e.kind {
		case kindSIP:
			w.SIP++
		case kindRTP:
			w.RTP++
		case kindRTCP:
			w.RTCP++
		}
	}
}

// party is one SIP user agent.
type party struct {
	user, display string
	sig           netip.AddrPort
	ua            string
}

func (p party) uri() string { return "sip:" + p.user + "@" + p.sig.String() }
func (p party) aor(domain string) string {
	return fmt.Sprintf("%q <sip:%s@%s>", p.display, p.user, domain)
}

// call builds the messages of one dialog. a is the caller.
type call struct {
	id        string
	a, b      party
	domain    string
	transport string // Via transport token: UDP, TCP, SCTP, WS, TLS
	aTag      string
	bTag      string
}

func (c *call) via(p party, key string) string {
	return fmt.Sprintf("SIP/2.0/%s %s;branch=z9hG4bK%s;rport", c.transport, p.sig, branchID(c.id, key))
}

// branchID derives a stable branch from the Call-ID and a transaction key.
func branchID(id, key string) string {
	h := uint32(2166136261) // FNV-1a: stable, no allocation of state
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return fmt.Sprintf("%08x", h)
}

// req builds a request. fromA selects the direction; inDialog adds the
// remote tag to To. key names the transaction for the branch (CANCEL and
// the ACK of a non-2xx share the INVITE's key).
func (c *call) req(method string, fromA, inDialog bool, cseq uint32, key string, body []byte, extra ...string) *SIPMsg {
	src, dst := c.a, c.b
	srcTag, dstTag := c.aTag, c.bTag
	if !fromA {
		src, dst = c.b, c.a
		srcTag, dstTag = c.bTag, c.aTag
	}
	to := dst.aor(c.domain)
	if inDialog && dstTag != "" {
		to += ";tag=" + dstTag
	}
	m := &SIPMsg{
		Method: method, RequestURI: dst.uri(),
		Via:  []string{c.via(src, key)},
		From: src.aor(c.domain) + ";tag=" + srcTag,
		To:   to, CallID: c.id, CSeq: cseq,
		UserAgent: src.ua, Extra: extra,
	}
	if method == "INVITE" || method == "REGISTER" {
		m.Contact = "<" + src.uri() + ";transport=" + strings.ToLower(c.transport) + ">"
	}
	if method == "INVITE" {
		m.Extra = append([]string{"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY", "Supported: replaces, timer"}, m.Extra...)
	}
	if len(body) > 0 {
		m.ContentType = "application/sdp"
		m.Body = body
	}
	return m
}

// resp builds a response to r sent by the other side; toTag is added to
// To unless r already has one.
func (c *call) resp(r *SIPMsg, code int, reason, toTag string, body []byte, extra ...string) *SIPMsg {
	to := r.To
	if toTag != "" && !strings.Contains(to, ";tag=") {
		to += ";tag=" + toTag
	}
	responder := c.b
	if strings.HasPrefix(r.From, c.b.aor(c.domain)) {
		responder = c.a
	}
	m := &SIPMsg{Code: code, Reason: reason, Via: r.Via, From: r.From, To: to, CallID: r.CallID,
		CSeq: r.CSeq, CSeqMethod: r.Method, UserAgent: responder.ua, Extra: extra}
	if code >= 180 && code < 300 && r.Method == "INVITE" {
		m.Contact = "<" + responder.uri() + ";transport=" + strings.ToLower(c.transport) + ">"
	}
	if len(body) > 0 {
		m.ContentType = "application/sdp"
		m.Body = body
	}
	return m
}

// rtpStream defines one RTP stream and its impairments. Index i runs over
// the packets the sender emits (0..N-1); seq = Seq0+i, ts = TS0+i*160
// unless TSJumpAt shifts it.
type rtpStream struct {
	src, dst  netip.AddrPort
	ssrc      uint32
	pt        uint8
	seq0      uint16
	ts0       uint32
	start     time.Time
	n         int
	lost      map[int]bool   // sender indices never captured
	dup       map[int]bool   // captured twice, 1 ms apart
	repeat    map[int]int    // extra identical copies (same seq), 5 ms apart: RFC 4733 end-of-event retransmissions
	ptimeMs   int            // packet time; 0 means 20 ms (G711Interval)
	payloadN  int            // payload bytes; 0 means a full 20 ms G.711 frame (keeps big scenarios small)
	swapNext  map[int]bool   // index i arrives after i+1
	jitter    *rand.Rand     // arrival += uniform [0, jitterMax)
	jitterMax time.Duration  //
	tsJumpAt  int            // from this index on, ts += tsJump (0 = none)
	tsJump    uint32         //
	marker    map[int]bool   // marker bit
	ptAt      map[int]uint8  // payload type override (CN, DTMF)
	payloadAt map[int][]byte // payload override
	tsAt      map[int]uint32 // timestamp override (DTMF events keep their start ts)
	notes     string
}

type rtpArrival struct {
	seq     uint16
	ts      uint32
	arrival time.Time
	marker  bool
	pt      uint8
}

// build emits the stream's events and its expected statistics.
func (s rtpStream) build(tl *timeline) StreamExpect {
	var arr []rtpArrival
	var pkts []event
	for i := 0; i < s.n; i++ {
		seq := s.seq0 + uint16(i)
		step, interval := uint32(G711Samples), G711Interval
		if s.ptimeMs > 0 {
			step, interval = uint32(8*s.ptimeMs), time.Duration(s.ptimeMs)*time.Millisecond
		}
		ts := s.ts0 + uint32(i)*step
		if s.tsJumpAt > 0 && i >= s.tsJumpAt {
			ts += s.tsJump
		}
		if v, ok := s.tsAt[i]; ok {
			ts = v
		}
		pt := s.pt
		if v, ok := s.ptAt[i]; ok {
			pt = v
		}
		payload := G711Payload(i)
		if s.payloadN > 0 && s.payloadN < len(payload) {
			payload = payload[:s.payloadN]
		}
		if v, ok := s.payloadAt[i]; ok {
			payload = v
		}
		at := s.start.Add(time.Duration(i) * interval)
		if s.jitter != nil {
			at = at.Add(time.Duration(s.jitter.Int64N(int64(s.jitterMax))))
		}
		if s.lost[i] {
			continue
		}
		p := RTP{PT: pt, Marker: s.marker[i], Seq: seq, TS: ts, SSRC: s.ssrc, Payload: payload}
		a := rtpArrival{seq: seq, ts: ts, arrival: at, marker: p.Marker, pt: pt}
		pkts = append(pkts, event{t: at, src: s.src, dst: s.dst, kind: kindRTP, payload: p.Bytes()})
		arr = append(arr, a)
		if s.dup[i] {
			a.arrival = at.Add(time.Millisecond)
			pkts = append(pkts, event{t: a.arrival, src: s.src, dst: s.dst, kind: kindRTP, payload: p.Bytes()})
			arr = append(arr, a)
		}
		for k := 1; k <= s.repeat[i]; k++ {
			a.arrival = at.Add(time.Duration(k) * 5 * time.Millisecond)
			pkts = append(pkts, event{t: a.arrival, src: s.src, dst: s.dst, kind: kindRTP, payload: p.Bytes()})
			arr = append(arr, a)
		}
	}
	// Ground truth from the drop list alone: the sender indices never
	// captured strictly between the first and last index captured (a
	// receiver cannot know of drops before or after the stream it saw).
	lo, hi := -1, -1
	for i := 0; i < s.n; i++ {
		if !s.lost[i] {
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	missing, dropped := 0, 0
	for i := range s.lost {
		if i >= 0 && i < s.n {
			dropped++
			if i > lo && i < hi {
				missing++
			}
		}
	}
	// Reorder: swap arrival times of i and i+1 (by position in arr) so the
	// later-sent packet is captured first.
	for i := range s.n {
		if !s.swapNext[i] {
			continue
		}
		j := slices.IndexFunc(arr, func(a rtpArrival) bool { return a.seq == s.seq0+uint16(i) })
		if j < 0 || j+1 >= len(arr) {
			continue
		}
		arr[j].arrival, arr[j+1].arrival = arr[j+1].arrival, arr[j].arrival
		pkts[j].t, pkts[j+1].t = pkts[j+1].t, pkts[j].t
	}
	tl.ev = append(tl.ev, pkts...)
	slices.SortStableFunc(arr, func(a, b rtpArrival) int { return a.arrival.Compare(b.arrival) })
	st := rtpStats(arr)
	st.Src, st.Dst, st.SSRC = s.src, s.dst, s.ssrc
	st.Missing, st.Dropped = missing, dropped
	st.Notes = s.notes
	return st
}

// rtpStats computes the expected statistics of packets in capture order
// (RFC 3550 A.1 extended sequence, A.3 loss, A.8 jitter).
func rtpStats(arr []rtpArrival) StreamExpect {
	var st StreamExpect
	if len(arr) == 0 {
		return st
	}
	st.PayloadType = arr[0].pt
	st.FirstSeq = arr[0].seq
	seen := map[int64]bool{}
	var cycles int64
	maxSeq := arr[0].seq
	var jitter float64
	var prevTransit float64
	for i, a := range arr {
		st.Packets++
		if a.marker {
			st.Markers++
		}
		// Extended sequence relative to the highest seen (RFC 3550 A.1:
		// a step of less than half the space forward is in order).
		var ext int64
		if i == 0 {
			ext = int64(a.seq)
		} else {
			d := int16(a.seq - maxSeq)
			if d > 0 {
				if a.seq < maxSeq {
					cycles += 1 << 16
					st.SeqWraps++
				}
				maxSeq = a.seq
				ext = cycles + int64(a.seq)
			} else {
				c := cycles
				if a.seq > maxSeq { // older packet from before the wrap
					c -= 1 << 16
				}
				ext = c + int64(a.seq)
			}
		}
		if seen[ext] {
			st.Duplicates++
		} else {
			if i > 0 && ext < cycles+int64(maxSeq) {
				st.OutOfOrder++
			}
			seen[ext] = true
		}
		// Jitter in timestamp units, using the capture time as arrival.
		arrivalUnits := float64(a.arrival.Sub(Epoch).Nanoseconds()) * 8000 / 1e9
		transit := arrivalUnits - float64(a.ts)
		if i > 0 {
			d := transit - prevTransit
			if d < 0 {
				d = -d
			}
			jitter += (d - jitter) / 16
		}
		prevTransit = transit
	}
	st.HighestSeq = maxSeq
	st.Expected = int(cycles+int64(maxSeq)-int64(st.FirstSeq)) + 1
	// Lost counts over the range from the lowest sequence number seen, so
	// a packet reordered before the first one widens the range instead of
	// offsetting a loss.
	lowest := int64(st.FirstSeq)
	for e := range seen {
		lowest = min(lowest, e)
	}
	st.Lost = int(cycles+int64(maxSeq)-lowest) + 1 - len(seen)
	st.JitterMs = float64(int64(jitter/8*1000+0.5)) / 1000 // ms, 3 decimals
	return st
}
