package pcapgen

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// SIPMsg is an RFC 3261 message. Set Method for a request, Code for a
// response. Header values are written as given, in RFC 3261's usual
// order; Content-Length is always computed from Body.
type SIPMsg struct {
	Method, RequestURI string
	Code               int
	Reason             string
	Via                []string
	MaxForwards        int // requests only; 0 means 70
	From, To           string
	CallID             string
	CSeq               uint32
	CSeqMethod         string
	Contact            string
	UserAgent          string
	Extra              []string // further "Name: value" lines
	ContentType        string
	Body               []byte
}

// IsRequest reports whether m is a request.
func (m *SIPMsg) IsRequest() bool { return m.Method != "" }

// Bytes renders m with CRLF line ends (RFC 3261 7).
func (m *SIPMsg) Bytes() []byte {
	var s strings.Builder
	if m.IsRequest() {
		fmt.Fprintf(&s, "%s %s SIP/2.0\r\n", m.Method, m.RequestURI)
	} else {
		fmt.Fprintf(&s, "SIP/2.0 %d %s\r\n", m.Code, m.Reason)
	}
	for _, v := range m.Via {
		s.WriteString("Via: " + v + "\r\n")
	}
	if m.IsRequest() {
		mf := m.MaxForwards
		if mf == 0 {
			mf = 70
		}
		s.WriteString("Max-Forwards: " + strconv.Itoa(mf) + "\r\n")
	}
	s.WriteString("From: " + m.From + "\r\n")
	s.WriteString("To: " + m.To + "\r\n")
	s.WriteString("Call-ID: " + m.CallID + "\r\n")
	cm := m.CSeqMethod
	if cm == "" {
		cm = m.Method
	}
	fmt.Fprintf(&s, "CSeq: %d %s\r\n", m.CSeq, cm)
	if m.Contact != "" {
		s.WriteString("Contact: " + m.Contact + "\r\n")
	}
	if m.UserAgent != "" {
		if m.IsRequest() {
			s.WriteString("User-Agent: " + m.UserAgent + "\r\n")
		} else {
			s.WriteString("Server: " + m.UserAgent + "\r\n")
		}
	}
	for _, e := range m.Extra {
		s.WriteString(e + "\r\n")
	}
	if len(m.Body) > 0 {
		s.WriteString("Content-Type: " + m.ContentType + "\r\n")
	}
	s.WriteString("Content-Length: " + strconv.Itoa(len(m.Body)) + "\r\n\r\n")
	s.Write(m.Body)
	return []byte(s.String())
}

// SDP describes a one-stream audio offer/answer (RFC 4566, RFC 3264).
type SDP struct {
	User        string
	SessID      uint64
	Version     uint64
	Addr        netip.Addr
	Port        uint16
	Direction   string // "sendrecv" when empty; "sendonly", "recvonly", "inactive"
	RTCPPort    uint16 // a=rtcp (RFC 3605) when non-zero
	Crypto      string // RTP/SAVP with this a=crypto key (RFC 4568) when non-empty
	ExtraCodecs bool   // also offer G722, G729 and GSM (makes the body large)
}

// Bytes renders the SDP body with CRLF line ends.
func (d SDP) Bytes() []byte {
	ipv := "IP4"
	if d.Addr.Is6() {
		ipv = "IP6"
	}
	proto := "RTP/AVP"
	if d.Crypto != "" {
		proto = "RTP/SAVP"
	}
	dir := d.Direction
	if dir == "" {
		dir = "sendrecv"
	}
	fmts := "0 8 101"
	if d.ExtraCodecs {
		fmts = "0 8 9 18 3 101"
	}
	var s strings.Builder
	s.WriteString("v=0\r\n")
	fmt.Fprintf(&s, "o=%s %d %d IN %s %s\r\n", d.User, d.SessID, d.Version, ipv, d.Addr)
	s.WriteString("s=voiptool\r\n")
	fmt.Fprintf(&s, "c=IN %s %s\r\n", ipv, d.Addr)
	s.WriteString("t=0 0\r\n")
	fmt.Fprintf(&s, "m=audio %d %s %s\r\n", d.Port, proto, fmts)
	s.WriteString("a=rtpmap:0 PCMU/8000\r\n")
	s.WriteString("a=rtpmap:8 PCMA/8000\r\n")
	if d.ExtraCodecs {
		s.WriteString("a=rtpmap:9 G722/8000\r\n")
		s.WriteString("a=rtpmap:18 G729/8000\r\n")
		s.WriteString("a=fmtp:18 annexb=no\r\n")
		s.WriteString("a=rtpmap:3 GSM/8000\r\n")
	}
	s.WriteString("a=rtpmap:101 telephone-event/8000\r\n")
	s.WriteString("a=fmtp:101 0-16\r\n")
	s.WriteString("a=ptime:20\r\n")
	if d.RTCPPort != 0 {
		fmt.Fprintf(&s, "a=rtcp:%d\r\n", d.RTCPPort)
	}
	if d.Crypto != "" {
		s.WriteString("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + d.Crypto + "\r\n")
	}
	s.WriteString("a=" + dir + "\r\n")
	return []byte(s.String())
}
