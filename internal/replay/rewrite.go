package replay

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"strconv"

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
// written here.
func (r *replayer) rewriteRTP(ev *capture.Event) []byte {
	k := streamKey{ev.Src, ev.RTP.SSRC}
	b, ok := r.streams[k]
	if !ok {
		b = rtpBase{ssrc: rand.Uint32(), dseq: uint16(rand.Uint32()), dts: rand.Uint32()}
		if len(r.streams) < maxStreams {
			r.streams[k] = b
		}
	}
	r.buf = append(r.buf[:0], ev.Payload...)
	binary.BigEndian.PutUint16(r.buf[2:], ev.RTP.SequenceNumber+b.dseq)
	binary.BigEndian.PutUint32(r.buf[4:], ev.RTP.Timestamp+b.dts)
	binary.BigEndian.PutUint32(r.buf[8:], b.ssrc)
	return r.buf
}
