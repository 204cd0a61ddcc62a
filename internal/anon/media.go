package anon

import (
	"encoding/binary"
	"strings"
)

// RTPMode says what becomes of RTP payloads.
type RTPMode uint8

// RTP modes.
const (
	RTPSilence RTPMode = iota // payload replaced by silence of the same length
	RTPDrop                   // packet dropped
	RTPKeep                   // payload kept (voice stays: only for captures without people)
)

// ParseRTPMode parses "silence", "drop" or "keep".
func ParseRTPMode(s string) (RTPMode, bool) {
	switch strings.ToLower(s) {
	case "silence", "":
		return RTPSilence, true
	case "drop":
		return RTPDrop, true
	case "keep":
		return RTPKeep, true
	}
	return 0, false
}

// G.711 silence: the code of amplitude zero (ITU-T G.711 Tables 1a/2a).
const (
	silencePCMU = 0xFF
	silencePCMA = 0xD5
)

// RTPResult says what RewriteRTP did.
type RTPResult uint8

// RTP results.
const (
	RTPKept    RTPResult = iota // unchanged
	RTPSilent                   // payload replaced by codec silence
	RTPZero                     // payload zeroed: codec without a known silence (flagged)
	RTPDTMF                     // RFC 4733 event codes replaced
	RTPRemove                   // drop the packet
	RTPComfort                  // comfort noise (RFC 3389), kept: it carries a level only
)

// rtpPayload returns the payload bounds of an RTP packet (RFC 3550 5.1).
func rtpPayload(p []byte) (pt uint8, off, end int, err error) {
	if len(p) < 12 || p[0]>>6 != 2 {
		return 0, 0, 0, ErrNotRTP
	}
	cc := int(p[0] & 0x0f)
	off = 12 + 4*cc
	if p[0]&0x10 != 0 { // header extension (RFC 3550 5.3.1)
		if off+4 > len(p) {
			return 0, 0, 0, ErrNotRTP
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(p[off+2:]))
	}
	end = len(p)
	if p[0]&0x20 != 0 { // padding: the last byte counts it
		if end == 0 || int(p[end-1]) > end {
			return 0, 0, 0, ErrNotRTP
		}
		end -= int(p[end-1])
	}
	if off > end {
		return 0, 0, 0, ErrNotRTP
	}
	return p[1] & 0x7f, off, end, nil
}

// RewriteRTP rewrites one RTP packet in place. codec is the encoding name
// the SDP gave the payload type ("PCMU", "telephone-event" ...), or "" to
// use the static table of RFC 3551. Headers (SSRC, sequence, timestamps)
// are kept: they identify streams, not people.
func (m *Mapper) RewriteRTP(p []byte, mode RTPMode, codec string) (RTPResult, error) {
	pt, off, end, err := rtpPayload(p)
	if err != nil {
		return RTPKept, err
	}
	if codec == "" {
		switch pt {
		case 0:
			codec = "PCMU"
		case 8:
			codec = "PCMA"
		case 13:
			codec = "CN"
		}
	}
	pay := p[off:end]
	switch {
	case strings.EqualFold(codec, "telephone-event"):
		// RFC 4733 2.3: event(8) E R volume(6) duration(16), possibly
		// several; digits and keys (0-15) are what a caller typed.
		for i := 0; i+4 <= len(pay); i += 4 {
			if pay[i] <= 15 && pay[i] != 0 {
				pay[i] = 0
			}
		}
		m.Stats.DTMFHidden++
		return RTPDTMF, nil
	case strings.EqualFold(codec, "CN"):
		return RTPComfort, nil
	}
	switch mode {
	case RTPKeep:
		return RTPKept, nil
	case RTPDrop:
		m.Stats.RTPDropped++
		return RTPRemove, nil
	}
	switch {
	case strings.EqualFold(codec, "PCMU"):
		fill(pay, silencePCMU)
		m.Stats.RTPSilenced++
		return RTPSilent, nil
	case strings.EqualFold(codec, "PCMA"):
		fill(pay, silencePCMA)
		m.Stats.RTPSilenced++
		return RTPSilent, nil
	}
	fill(pay, 0)
	m.Stats.RTPZeroed++
	return RTPZero, nil
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// RTCP packet types (RFC 3550 12.1).
const (
	rtcpSDES = 202
	rtcpBYE  = 203
	rtcpAPP  = 204
)

// SDES item types (RFC 3550 6.5).
const (
	sdesEnd   = 0
	sdesCNAME = 1
)

// RewriteRTCP rewrites a compound RTCP packet in place: SDES items (CNAME
// as in SDP's a=ssrc cname:, NAME, EMAIL, PHONE, LOC, TOOL, NOTE, PRIV) are
// replaced by text of the same length, so no length changes; BYE reasons
// and APP data are replaced too. Reports and XR blocks are kept.
func (m *Mapper) RewriteRTCP(p []byte) error {
	for len(p) > 0 {
		if len(p) < 4 || p[0]>>6 != 2 {
			return ErrNotRTCP
		}
		n := 4 * (int(binary.BigEndian.Uint16(p[2:])) + 1)
		if n > len(p) {
			return ErrNotRTCP
		}
		pkt := p[:n]
		count := int(p[0] & 0x1f)
		body := pkt[4:]
		if p[0]&0x20 != 0 && len(body) > 0 { // padding on the last packet
			pad := int(body[len(body)-1])
			if pad > len(body) {
				return ErrNotRTCP
			}
			body = body[:len(body)-pad]
		}
		switch p[1] {
		case rtcpSDES:
			if err := m.sdes(body, count); err != nil {
				return err
			}
		case rtcpBYE:
			r := 4 * count
			if r < len(body) {
				l := int(body[r])
				if r+1+l <= len(body) {
					m.replaceText(body[r+1:r+1+l], false)
				}
			}
		case rtcpAPP:
			if len(body) > 8 {
				fill(body[8:], 0)
				m.Stats.RTCPItems++
			}
		}
		p = p[n:]
	}
	return nil
}

func (m *Mapper) sdes(b []byte, chunks int) error {
	for c := 0; c < chunks; c++ {
		if len(b) < 4 {
			return ErrNotRTCP
		}
		i := 4
		for {
			if i >= len(b) {
				return ErrNotRTCP
			}
			t := b[i]
			if t == sdesEnd {
				i++
				break
			}
			if i+2 > len(b) {
				return ErrNotRTCP
			}
			l := int(b[i+1])
			if i+2+l > len(b) {
				return ErrNotRTCP
			}
			m.replaceText(b[i+2:i+2+l], t == sdesCNAME)
			i += 2 + l
		}
		// chunks end on a 32-bit boundary
		i = (i + 3) &^ 3
		if i > len(b) {
			i = len(b)
		}
		b = b[i:]
	}
	return nil
}

// replaceText overwrites t with its pseudonym of the same length.
func (m *Mapper) replaceText(t []byte, cname bool) {
	if len(t) == 0 {
		return
	}
	var r string
	if cname {
		r = m.CNAME(string(t))
	} else {
		r = m.Token(string(t))
	}
	copy(t, r)
	m.Stats.RTCPItems++
}
