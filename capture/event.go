package capture

import (
	"net/netip"
	"time"

	"github.com/voiptool/voiptool/pcap"
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

// Transport is how the payload travelled above IP.
type Transport uint8

// Transports.
const (
	TransportUDP Transport = iota + 1
	TransportTCP
	TransportSCTP
	TransportWS  // SIP over WebSocket (RFC 7118) on TCP
	TransportTLS // SIP over TLS on TCP, decrypted (sipstream.Options.TLSKeys)
	TransportWSS // SIP over WebSocket over TLS, decrypted
)

func (t Transport) String() string {
	switch t {
	case TransportUDP:
		return "UDP"
	case TransportTCP:
		return "TCP"
	case TransportSCTP:
		return "SCTP"
	case TransportWS:
		return "WS"
	case TransportTLS:
		return "TLS"
	case TransportWSS:
		return "WSS"
	}
	return "unknown"
}

// TransportOf names the transport an IP protocol number stands for (as
// HEP's IP protocol chunk carries it): 6 TCP, 132 SCTP, else UDP.
func TransportOf(ipProto uint8) Transport {
	switch ipProto {
	case 6:
		return TransportTCP
	case 132:
		return TransportSCTP
	}
	return TransportUDP
}

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
	// Record is that record's bytes (link layer first), aliasing the
	// source's buffer: valid only until the consumer returns. It is nil
	// when the record is no longer in hand: payloads completed by Run's
	// final flush (TCP data buffered at the end of input) and RTP the
	// heuristic held back and delivers with a later record. Writers that
	// save or rewrite the packets behind events (recorders, dump -w) use
	// it.
	Record []byte
	VLAN   uint16 // innermost 802.1Q VLAN id, 0 if none
	Tunnel bool   // payload was found inside a tunnel (IPIP, GRE, ERSPAN, VXLAN)
}
