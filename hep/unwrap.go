package hep

import (
	"net/netip"
	"time"
)

// Message is what one HEP packet carries, unwrapped for a consumer: the
// captured payload (inflated once when it came compressed) with the
// addresses, transport and time of the agent's capture, and who captured it.
//
// Aliasing: Payload points into the decoded packet (so into the buffer given
// to Unmarshal) or into the Unwrapper's inflate buffer; CorrelationID and
// Node point into the packet. All are valid until the next Unwrap with the
// same Unwrapper or the next read into the packet's buffer.
type Message struct {
	Type     ProtoType // 0x000b: SIP, or the kind of report (LOG, RTCP-JSON, ...)
	Payload  []byte    // the captured bytes, inflated
	Src, Dst netip.AddrPort
	Protocol uint8 // IANA number of the captured transport (17 UDP, 6 TCP, 132 SCTP)
	// Time is the agent's capture time, or the fallback given to Unwrap
	// when the packet carried none; TimeFromAgent says which.
	Time          time.Time
	TimeFromAgent bool
	CorrelationID []byte // 0x0011: agents put the Call-ID of the call a report is about here
	CaptureID     uint32 // 0x000c: the agent
	Node          []byte // 0x0013: the agent's node name
}

// IsSIP reports whether the message is a captured SIP message, to be
// analysed like SIP seen on the wire.
func (m *Message) IsSIP() bool { return m.Type == ProtoSIP }

// IsReport reports whether the message is a report an agent wrote about a
// call (a log line, RTCP as JSON, a QoS summary) rather than captured
// traffic: such messages are attached to the call their correlation id names.
func (m *Message) IsReport() bool {
	switch m.Type {
	case ProtoLog, ProtoRTCPJSON, ProtoJSON, ProtoRTPAgent, ProtoRTCPXR:
		return true
	}
	return false
}

// Unwrapper turns decoded packets into Messages, keeping the buffer a
// compressed payload is inflated into. The zero value is ready; it is not
// safe for concurrent use (one per goroutine, like a decoder).
type Unwrapper struct {
	pkt Packet
	buf []byte
}

// Unwrap fills m from p. fallback is the time used when p carries none (a
// collector's receive time, the capture time of the packet that carried
// it). A compressed payload is inflated into the Unwrapper's buffer; an
// error from that (wrapping ErrInflateTooLarge or naming the bad stream)
// leaves m unusable.
//
// Without compression Unwrap does not allocate.
func (u *Unwrapper) Unwrap(p *Packet, fallback time.Time, m *Message) error {
	payload := p.Payload
	if p.Compressed {
		out, err := p.Decompress(u.buf[:0])
		if err != nil {
			return err
		}
		u.buf = out
		payload = out
	}
	if p.ProtoType == ProtoSIP {
		if _, nested := Detect(payload); nested {
			return ErrNested
		}
	}
	*m = Message{
		Type: p.ProtoType, Payload: payload, Src: p.Src, Dst: p.Dst, Protocol: p.Protocol,
		Time: p.Time, TimeFromAgent: !p.Time.IsZero(),
		CorrelationID: p.CorrelationID, CaptureID: p.CaptureID, Node: p.GroupID,
	}
	if !m.TimeFromAgent {
		m.Time = fallback
	}
	return nil
}

// Decode unmarshals b (a HEP packet found in a capture) into the
// Unwrapper's own Packet and unwraps it. The Message aliases b.
func (u *Unwrapper) Decode(b []byte, fallback time.Time, m *Message) error {
	if err := u.pkt.Unmarshal(b); err != nil {
		return err
	}
	return u.Unwrap(&u.pkt, fallback, m)
}
