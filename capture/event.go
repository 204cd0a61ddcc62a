package capture

import (
	"net/netip"
	"time"

	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// Kind is what the classifier decided a payload is.
type Kind uint8

// Payload kinds delivered to the consumer.
const (
	KindSIP  Kind = iota + 1 // one complete SIP message (framed on stream transports)
	KindRTP                  // one RTP packet (RFC 3550), header in Event.RTP
	KindRTCP                 // one compound RTCP datagram (RFC 3550 6)
	KindHEP                  // one HEP v1/v2/v3 packet (decoded by package hep)
)

func (k Kind) String() string {
	switch k {
	case KindSIP:
		return "SIP"
	case KindRTP:
		return "RTP"
	case KindRTCP:
		return "RTCP"
	case KindHEP:
		return "HEP"
	}
	return "unknown"
}

// Transport is how the payload travelled above IP: an alias of
// sipflow.Transport, the project's one transport type, so events feed
// sipflow without a conversion.
type Transport = sipflow.Transport

// Transports (sipflow's constants under capture's names).
const (
	TransportUDP  = sipflow.TransportUDP
	TransportTCP  = sipflow.TransportTCP
	TransportSCTP = sipflow.TransportSCTP
	TransportWS   = sipflow.TransportWS // SIP over WebSocket (RFC 7118) on TCP
)

// TransportOf names the transport an IP protocol number stands for; see
// sipflow.TransportOf.
func TransportOf(ipProto uint8) Transport { return sipflow.TransportOf(ipProto) }

// RTPHeader is the fixed RTP header (RFC 3550 5.1) of a KindRTP event.
// Filled by the classifier so consumers need not parse it again.
type RTPHeader struct {
	Marker         bool
	PayloadType    uint8
	SequenceNumber uint16
	Timestamp      uint32
	SSRC           uint32
	CSRCCount      uint8
	Padding        bool
	Extension      bool
	HeaderLength   int // bytes before the payload, incl. CSRCs and extension
}

// Event is one classified payload. It is passed by pointer to the
// consumer and reused: Payload aliases the decoder's buffers and is valid
// only until the consumer returns. A consumer that retains anything copies
// it (the one copy, where the value is kept).
type Event struct {
	Kind      Kind
	Transport Transport
	Time      time.Time // capture time of the packet that completed the payload
	Src, Dst  netip.AddrPort
	Payload   []byte
	RTP       RTPHeader // valid when Kind == KindRTP

	// Where the payload came from, so a call can be re-read and saved.
	Source int         // index of the input among merged sources
	Packet pcap.Packet // the record that completed the payload
	VLAN   uint16      // innermost 802.1Q VLAN id, 0 if none
	Tunnel bool        // payload was found inside a tunnel (IPIP, GRE, ERSPAN, VXLAN)
}
