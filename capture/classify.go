package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/internal/siplex"
)

// RTP/RTCP constants (RFC 3550, RFC 5761).
const (
	rtpVersion      = 2
	rtcpHeader      = 4   // RFC 3550 6.4.1: V/P/count, PT, length
	rtcpTypeFirst   = 200 // SR (RFC 3550 12.1); 200-207 SR RR SDES BYE APP RTPFB PSFB XR
	rtcpTypeLast    = 207
	muxRTCPLow      = 64 // RFC 5761 4: RTP PT 64-95 collide with RTCP 192-223
	muxRTCPHigh     = 95
	rtpPTReservedLo = 72 // RFC 5761 4: RTCP SR..APP with the marker bit set
	rtpPTReservedHi = 76
	maxRTCPInDgram  = 64   // compound packets walked per datagram
	heurMinPort     = 1024 // the heuristic ignores well-known ports (DNS, NTP, SNMP ...)
)

// classifyDatagram decides what a UDP or SCTP payload is, by content.
func (d *Decoder) classifyDatagram(b []byte, src, dst netip.AddrPort, tr Transport) {
	if len(b) == 0 {
		d.stats.Other++
		return
	}
	// Set once here for every deliver below: copying two AddrPorts down
	// each call level was a measurable share of the per-packet cost.
	d.ev.Src, d.ev.Dst = src, dst
	// RTP and RTCP start with version 2 (0b10 in the top bits, RFC 3550
	// 5.1). A SIP start line starts with an ASCII token character and HEP
	// with "HEP3" or version 1 or 2, so neither test can match then.
	if b[0]>>6 != rtpVersion {
		if IsSIP(b) {
			// Learnt after delivery: a consumer that parses the message
			// (Run's pipeline) hands it back in the event, so the SDP
			// is not parsed twice. Nothing the consumer does with a SIP
			// event reads the media table.
			d.deliver(KindSIP, tr, b)
			d.learnSDP(b)
			return
		}
		if _, ok := hep.Detect(b); ok {
			d.deliver(KindHEP, tr, b)
			return
		}
	}
	if tr != TransportUDP {
		d.stats.Other++
		return
	}
	if role, ok := d.media.lookup(dst, src, d.nowNS); ok {
		switch {
		case role == roleRTCP || (role == roleMux && len(b) >= 2 && isMuxRTCP(b[1])):
			if rtcpFirstHeader(b) {
				d.stats.RTPBySDP++
				d.deliver(KindRTCP, tr, b)
				return
			}
		default:
			if d.ev.RTP.Parse(b) {
				d.stats.RTPBySDP++
				d.deliver(KindRTP, tr, b)
				return
			}
		}
	}
	if d.o.NoRTPHeuristic || src.Port() < heurMinPort || dst.Port() < heurMinPort {
		d.stats.Other++
		return
	}
	if IsRTCPCompound(b) {
		d.stats.RTPByHeuristic++
		d.deliver(KindRTCP, tr, b)
		return
	}
	if d.ev.RTP.Parse(b) && !isReservedPT(d.ev.RTP.PayloadType) {
		s, ok := d.flows.observe(src, dst, d.ev.RTP.SSRC, d.ev.RTP.SequenceNumber, d.nowNS)
		if ok {
			if s.nheld > 0 {
				d.releaseHeld(s)
			}
			d.stats.RTPByHeuristic++
			d.deliver(KindRTP, tr, b)
			return
		}
		if s != nil {
			d.flows.hold(s, b, d, src, dst)
		}
	}
	d.stats.Other++
}

func isMuxRTCP(b1 byte) bool {
	pt := b1 & 0x7f
	return pt >= muxRTCPLow && pt <= muxRTCPHigh
}

func isReservedPT(pt uint8) bool { return pt >= rtpPTReservedLo && pt <= rtpPTReservedHi }

// rtcpFirstHeader is the weak check used for SDP-learned RTCP endpoints:
// the first packet is RTCP and fits. SRTCP trailers (RFC 3711 3.4) after
// the compound are allowed there.
func rtcpFirstHeader(b []byte) bool {
	if len(b) < 8 || b[0]>>6 != rtpVersion || b[1] < 192 || b[1] > 223 {
		return false
	}
	return (int(binary.BigEndian.Uint16(b[2:4]))+1)*4 <= len(b)
}

// IsRTCPCompound reports whether b is a compound RTCP datagram (RFC 3550
// 6.1): every packet version 2 with a type in 200-207, and the length
// fields adding up to exactly the datagram length.
func IsRTCPCompound(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	off := 0
	for n := 0; off < len(b); n++ {
		if n == maxRTCPInDgram || len(b)-off < rtcpHeader {
			return false
		}
		if b[off]>>6 != rtpVersion || b[off+1] < rtcpTypeFirst || b[off+1] > rtcpTypeLast {
			return false
		}
		off += (int(binary.BigEndian.Uint16(b[off+2:off+4])) + 1) * 4
	}
	return off == len(b)
}

// IsSIP reports whether b starts with a SIP request line
// ("METHOD SP Request-URI SP SIP/2.0", RFC 3261 7.1) or status line
// ("SIP/2.0 SP 3DIGIT SP", RFC 3261 7.2), as siplex decides them. The
// version is compared case-insensitively, as tshark's heuristic does.
func IsSIP(b []byte) bool {
	// Cheap reject before scanning for the line end: every start line
	// begins with a token character; RTP (0x80..) and most binary never do.
	if len(b) == 0 || !siplex.IsToken(b[0]) {
		return false
	}
	// A datagram SIP message has at least a start line and CRLF.
	line, _, ok := siplex.NextLine(b, 0)
	if !ok {
		return false
	}
	if siplex.StatusLine(line) {
		return true
	}
	_, _, ok = siplex.RequestLine(line)
	return ok
}
