package replay

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"strconv"

	"github.com/pion/rtcp"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/sipflow"
)

// rewriteSIP returns r.msg (decoded from the payload) pointed at target
// and at the local socket local: the Request-URI goes to the target, the
// top Via of a request and every Contact name the local socket, the SDP
// names the local media sockets, Content-Length follows the body. With
// NewIDs the Call-ID, tags and branches are this run's; once a live peer
// answered, the callee's recorded To-tag becomes the peer's.
func (r *replayer) rewriteSIP(cs *callState, fromCaller bool, target, local netip.AddrPort) []byte {
	m := &r.msg
	ed := &r.ed
	ed.Reset(m.Raw)
	localAP := netip.AddrPortFrom(r.socks.localIP(local, target.Addr()), local.Port())
	if m.Request {
		setHostPort(ed, m.RequestURI.Host, target)
		if len(m.Via) > 0 {
			setHostPort(ed, m.Via[0].Host, localAP)
		}
	}
	for _, c := range m.Contact {
		setHostPort(ed, c.URI.Host, localAP)
	}
	if cs.ids != nil {
		ed.Set(m.CallID, cs.sentID)
		for _, h := range m.Headers {
			if h.Kind == sipflow.HeaderCallID && !sameSlice(h.Value, m.CallID) {
				ed.Set(h.Value, cs.sentID) // a repeated Call-ID header
			}
		}
		r.newID(cs, m.From.Tag)
		for _, v := range m.Via {
			r.newID(cs, v.Branch)
		}
	}
	toTag := false
	if fromCaller && m.Request && len(m.To.Tag) > 0 && string(m.To.Tag) == cs.recToTag {
		r.mu.Lock()
		lt := cs.live.toTag
		r.mu.Unlock()
		if lt != "" {
			ed.Set(m.To.Tag, lt)
			toTag = true
		}
	}
	if !toTag && cs.ids != nil {
		r.newID(cs, m.To.Tag)
	}
	if m.HasSDP && len(m.SDP.Raw) > 0 {
		nb := r.rewriteSDP(target)
		if string(nb) != string(m.SDP.Raw) {
			ed.Set(m.SDP.Raw, string(nb))
			if m.ContentLength >= 0 {
				ed.SetContentLength(m, len(m.Body)+len(nb)-len(m.SDP.Raw))
			}
		}
	}
	r.buf = ed.AppendApply(r.buf[:0])
	return r.buf
}

// newID replaces an identifier (tag, branch) with this run's pseudonym
// for it; a branch keeps the RFC 3261 magic cookie.
func (r *replayer) newID(cs *callState, v []byte) {
	if len(v) == 0 {
		return
	}
	n, ok := cs.ids[string(v)]
	if !ok {
		n = newToken(16)
		if len(v) >= 7 && string(v[:7]) == "z9hG4bK" {
			n = "z9hG4bK" + n
		}
		cs.ids[string(v)] = n
	}
	r.ed.Set(v, n)
}

func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

// setHostPort replaces host (a slice of the editor's base) and the
// ":port" after it, brackets of an IPv6 reference included, with ap.
func setHostPort(ed *sipflow.Editor, host []byte, ap netip.AddrPort) {
	base := ed.Base()
	off := sipflow.Offset(base, host)
	if off < 0 || len(host) == 0 {
		return
	}
	start, end := off, off+len(host)
	if start > 0 && base[start-1] == '[' && end < len(base) && base[end] == ']' {
		start--
		end++
	}
	if end < len(base) && base[end] == ':' {
		j := end + 1
		for j < len(base) && base[j] >= '0' && base[j] <= '9' {
			j++
		}
		if j > end+1 {
			end = j
		}
	}
	ed.SetRange(start, end, ap.String())
}

// rewriteSDP returns r.msg's SDP with the origin and connection addresses
// set to the local address towards target, and each m= port set to the
// port of the local socket standing for that media endpoint (opened now,
// so the peer's media reaches it).
func (r *replayer) rewriteSDP(target netip.AddrPort) []byte {
	s := &r.msg.SDP
	raw := s.Raw
	bed := &r.bed
	bed.Reset(raw)
	var lip netip.Addr
	mi := -1
	for pos := 0; pos < len(raw); {
		line, n := sipflow.NextLine(raw, pos)
		pos = n
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		v := line[2:]
		switch line[0] {
		case 'o', 'c':
			if line[0] == 'o' {
				// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <addr>
				_, v = sipflow.Field(v)
				_, v = sipflow.Field(v)
				_, v = sipflow.Field(v)
			}
			_, rest := sipflow.Field(v)
			atype, rest := sipflow.Field(rest)
			addr, _ := sipflow.Field(rest)
			if i := indexByte(addr, '/'); i >= 0 {
				addr = addr[:i]
			}
			if len(addr) == 0 {
				continue
			}
			if !lip.IsValid() {
				lip = r.mediaIP(target)
			}
			if lip.Is4() {
				bed.Set(atype, "IP4")
			} else {
				bed.Set(atype, "IP6")
			}
			bed.Set(addr, lip.String())
		case 'm':
			mi++
			_, rest := sipflow.Field(v)
			port, _ := sipflow.Field(rest)
			if i := indexByte(port, '/'); i >= 0 {
				port = port[:i]
			}
			ep, ok := s.Endpoint(mi)
			if !ok || ep.Port() == 0 || string(port) == "0" {
				continue
			}
			u, ok, err := r.socks.udpFor(ep)
			if !ok {
				_ = r.noSocket(err)
				continue
			}
			bed.Set(port, strconv.Itoa(int(u.local.Port())))
		}
	}
	r.sdp = bed.AppendApply(r.sdp[:0])
	return r.sdp
}

// mediaIP is the address the local media sockets are reached at.
func (r *replayer) mediaIP(target netip.AddrPort) netip.Addr {
	if r.o.Bind.IsValid() && !r.o.Bind.IsUnspecified() {
		return r.o.Bind
	}
	return r.socks.localIP(netip.AddrPort{}, target.Addr())
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// rewriteRTP gives the packet its stream's bases for this run: a new
// SSRC, and sequence numbers and timestamps shifted by one random offset
// per stream, so gaps (loss), reordering and timing stay as captured.
// The header fields are the classifier's (ev.RTP); only the bytes are
// written here. The packet and its payload octets are counted for the
// stream's sender reports.
func (r *replayer) rewriteRTP(ev *capture.Event) []byte {
	b := r.base(ev.RTP.SSRC)
	if !b.seen {
		b.seen, b.first = true, ev.RTP.SequenceNumber
	}
	b.packets++
	b.octets += uint32(len(ev.RTP.Payload(ev.Payload)))
	r.buf = append(r.buf[:0], ev.Payload...)
	binary.BigEndian.PutUint16(r.buf[2:], ev.RTP.SequenceNumber+b.dseq)
	binary.BigEndian.PutUint32(r.buf[4:], ev.RTP.Timestamp+b.dts)
	binary.BigEndian.PutUint32(r.buf[8:], b.ssrc)
	return r.buf
}

// base is the new identity of the stream the capture called ssrc in this
// run, drawn the first time RTP or RTCP names it. Streams are keyed by
// SSRC alone so that an RTCP report about a stream (sent by its
// receiver, from another address) finds the base its RTP got; a stream a
// relay forwarded with its SSRC kept gets one new SSRC on both legs, as
// in the capture. A full table gives an unrecorded base (counted).
func (r *replayer) base(ssrc uint32) *rtpBase {
	if b := r.streams[ssrc]; b != nil {
		return b
	}
	b := &rtpBase{ssrc: rand.Uint32(), dseq: uint16(rand.Uint32()), dts: rand.Uint32()}
	if len(r.streams) < maxStreams {
		r.streams[ssrc] = b
	} else {
		r.c.StreamsFull++
	}
	return b
}

// rewriteRTCP maps a compound RTCP packet onto this run's RTP bases
// (NewRTP): every SSRC it names (sender reports, reception report blocks,
// SDES chunks, BYE, XR and feedback packets) becomes the new SSRC of that
// stream; a sender report's RTP timestamp moves with the stream's
// timestamps and its packet and octet counts become what this run sent
// of the stream so far (the captured counts describe a sender whose
// history began before the capture, and a replay that sends only some of
// the capture would contradict them); extended highest sequence numbers
// and NACKed sequence numbers move with the stream's sequence numbers.
// NTP times, LSR/DLSR, jitter and loss figures stay as captured, so the
// receiver's round-trip and quality figures are the captured ones.
//
// The packet is decoded and encoded with pion/rtcp, the project's RTCP
// parser (rtpstats reads RTCP with it too); that allocates, which RTCP's
// rate (one compound packet per stream every few seconds) affords. A
// packet it cannot decode or encode is sent unchanged and counted.
func (r *replayer) rewriteRTCP(p []byte) []byte {
	pkts, err := rtcp.Unmarshal(p)
	if err != nil {
		r.c.RTCPUnchanged++
		return p
	}
	for _, pk := range pkts {
		if !r.mapRTCP(pk) {
			r.c.RTCPUnknown++
		}
	}
	out, err := rtcp.Marshal(pkts)
	if err != nil {
		r.c.RTCPUnchanged++
		return p
	}
	r.c.RTCPRewritten++
	return out
}

// mapRTCP rewrites one decoded RTCP packet in place; false for a type
// that names no SSRC this package knows how to map (sent as decoded).
func (r *replayer) mapRTCP(pk rtcp.Packet) bool {
	switch p := pk.(type) {
	case *rtcp.SenderReport:
		b := r.base(p.SSRC)
		p.SSRC = b.ssrc
		p.RTPTime += b.dts
		p.PacketCount, p.OctetCount = b.packets, b.octets
		r.mapReports(p.Reports)
	case *rtcp.ReceiverReport:
		p.SSRC = r.base(p.SSRC).ssrc
		r.mapReports(p.Reports)
	case *rtcp.SourceDescription:
		for i := range p.Chunks {
			p.Chunks[i].Source = r.base(p.Chunks[i].Source).ssrc
		}
	case *rtcp.Goodbye:
		for i := range p.Sources {
			p.Sources[i] = r.base(p.Sources[i]).ssrc
		}
	case *rtcp.ExtendedReport:
		p.SenderSSRC = r.base(p.SenderSSRC).ssrc
		for _, blk := range p.Reports {
			r.mapXR(blk)
		}
	case *rtcp.TransportLayerNack:
		p.SenderSSRC = r.base(p.SenderSSRC).ssrc
		b := r.base(p.MediaSSRC)
		p.MediaSSRC = b.ssrc
		for i := range p.Nacks {
			p.Nacks[i].PacketID += b.dseq
		}
	case *rtcp.PictureLossIndication:
		p.SenderSSRC = r.base(p.SenderSSRC).ssrc
		p.MediaSSRC = r.base(p.MediaSSRC).ssrc
	case *rtcp.ApplicationDefined:
		p.SSRC = r.base(p.SSRC).ssrc
	default:
		return false
	}
	return true
}

// mapReports rewrites reception report blocks: the reported stream's new
// SSRC, and its extended highest sequence number moved by the stream's
// sequence offset with the cycle count kept relative to the first
// sequence number this run sent (or the report's own, before any).
func (r *replayer) mapReports(rs []rtcp.ReceptionReport) {
	for i := range rs {
		b := r.base(rs[i].SSRC)
		rs[i].SSRC = b.ssrc
		rs[i].LastSequenceNumber = shiftExtSeq(rs[i].LastSequenceNumber, b)
	}
}

// shiftExtSeq moves an extended sequence number (cycles<<16 | seq) by the
// stream's offset: its low 16 bits become seq+dseq, and a wrap the shift
// causes relative to the stream's first sequence number adds a cycle, as
// a receiver of the new stream would count it.
func shiftExtSeq(ext uint32, b *rtpBase) uint32 {
	first := uint16(ext)
	if b.seen {
		first = b.first
	}
	return ext - uint32(first) + uint32(first+b.dseq)
}

// mapXR rewrites the SSRC fields (and sequence ranges) of RFC 3611
// report blocks.
func (r *replayer) mapXR(blk rtcp.ReportBlock) {
	switch x := blk.(type) {
	case *rtcp.VoIPMetricsReportBlock:
		x.SSRC = r.base(x.SSRC).ssrc
	case *rtcp.StatisticsSummaryReportBlock:
		b := r.base(x.SSRC)
		x.SSRC, x.BeginSeq, x.EndSeq = b.ssrc, x.BeginSeq+b.dseq, x.EndSeq+b.dseq
	case *rtcp.LossRLEReportBlock:
		b := r.base(x.SSRC)
		x.SSRC, x.BeginSeq, x.EndSeq = b.ssrc, x.BeginSeq+b.dseq, x.EndSeq+b.dseq
	case *rtcp.DuplicateRLEReportBlock:
		b := r.base(x.SSRC)
		x.SSRC, x.BeginSeq, x.EndSeq = b.ssrc, x.BeginSeq+b.dseq, x.EndSeq+b.dseq
	case *rtcp.PacketReceiptTimesReportBlock:
		b := r.base(x.SSRC)
		x.SSRC, x.BeginSeq, x.EndSeq = b.ssrc, x.BeginSeq+b.dseq, x.EndSeq+b.dseq
	case *rtcp.DLRRReportBlock:
		for i := range x.Reports {
			x.Reports[i].SSRC = r.base(x.Reports[i].SSRC).ssrc
		}
	}
}
