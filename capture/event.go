package capture

import (
	"net/netip"
	"time"

	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/rtpstats"
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
	TransportWS   = sipflow.TransportWS  // SIP over WebSocket (RFC 7118) on TCP
	TransportTLS  = sipflow.TransportTLS // SIP over TLS on TCP, decrypted (sipstream.Options.TLSKeys)
	TransportWSS  = sipflow.TransportWSS // SIP over WebSocket over TLS, decrypted
)

// TransportOf names the transport an IP protocol number stands for; see
// sipflow.TransportOf.
func TransportOf(ipProto uint8) Transport { return sipflow.TransportOf(ipProto) }

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
	// RTP is the header of a KindRTP event, decoded by the classifier
	// with rtpstats' decoder (Fixed.Parse): consumers hand it on
	// (rtpstats.Tracker.AddFixed) instead of decoding the packet again;
	// RTP.Payload(Payload) is the RTP payload. Zero for other kinds.
	RTP rtpstats.Fixed
	// SIP is a KindSIP event's Payload as sipflow's Message.Unmarshal
	// decoded it, when Run's pipeline (Options.Pipeline) parsed it on its
	// own goroutine; valid as long as Payload. nil otherwise: the consumer
	// parses (sipflow.Store.Add) or hands it on (Store.AddParsed). The
	// pipeline leaves a message without a body unparsed while its
	// consumer has no batch waiting (see pipeBatch.add). A
	// consumer of a Decoder may set it on the event it was handed to the
	// message it parsed from Payload (still valid when the emit returns):
	// the decoder then learns the SDP's media endpoints from that parse
	// instead of parsing the body again.
	SIP *sipflow.Message

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

	// Layers says where each header of the record behind Packet sits, so
	// a rewriter, a frame replayer or a recorder can change bytes without
	// decoding the encapsulations again (package capture/fixup repairs
	// lengths and checksums from it).
	Layers Layers
}

// Records returns the numbers of the first and last records that carried
// bytes of the payload: Packet.Number twice unless it was reassembled.
func (e *Event) Records() (first, last int) {
	if e.Layers.FirstRecord == 0 && e.Layers.LastRecord == 0 {
		return e.Packet.Number, e.Packet.Number
	}
	return e.Layers.FirstRecord, e.Layers.LastRecord
}

// Proto names one header in a record's chain (Layers.Protos).
type Proto uint8

// Headers the decoder records in Layers. IPv6 extension headers
// and the IPv4/IPv6 fragment header belong to their IP entry.
const (
	ProtoEthernet Proto = iota + 1 // 14 bytes (also inside VXLAN, ERSPAN, GRE TEB)
	ProtoVLAN                      // one 802.1Q/802.1ad tag: 4 bytes (TCI, EtherType)
	ProtoPPPoE                     // RFC 2516 session header: 6 bytes, length at +4
	ProtoPPP                       // RFC 1661 PPP header (with or without HDLC bytes)
	ProtoLoopback                  // BSD NULL/LOOP 4-byte family
	ProtoSLL                       // Linux cooked v1, 16 bytes
	ProtoSLL2                      // Linux cooked v2, 20 bytes
	ProtoIPv4                      // RFC 791: total length at +2, checksum at +10
	ProtoIPv6                      // RFC 8200: payload length at +4 (covers extension headers)
	ProtoGRE                       // RFC 2784/2890: optional checksum (C bit)
	ProtoERSPAN                    // ERSPAN type II or III header (after GRE)
	ProtoVXLAN                     // RFC 7348: 8 bytes (after UDP)
	ProtoUDP                       // RFC 768: length at +4, checksum at +6
	ProtoTCP                       // RFC 9293: checksum at +16
	ProtoSCTP                      // RFC 9260 common header: CRC32c at +8
)

func (p Proto) String() string {
	switch p {
	case ProtoEthernet:
		return "Ethernet"
	case ProtoVLAN:
		return "802.1Q"
	case ProtoPPPoE:
		return "PPPoE"
	case ProtoPPP:
		return "PPP"
	case ProtoLoopback:
		return "Loopback"
	case ProtoSLL:
		return "SLL"
	case ProtoSLL2:
		return "SLL2"
	case ProtoIPv4:
		return "IPv4"
	case ProtoIPv6:
		return "IPv6"
	case ProtoGRE:
		return "GRE"
	case ProtoERSPAN:
		return "ERSPAN"
	case ProtoVXLAN:
		return "VXLAN"
	case ProtoUDP:
		return "UDP"
	case ProtoTCP:
		return "TCP"
	case ProtoSCTP:
		return "SCTP"
	}
	return "unknown"
}

// Header is one entry of the chain (Layers.Header): a header and where
// it starts.
type Header struct {
	Off   int32 // byte offset in the record (Event.Packet's data)
	Proto Proto
}

// Reassembly flags say which reassemblies built an event's payload.
type Reassembly uint8

// Reassemblies. Any of them can leave Layers.Payload negative: the
// payload then lives in the decoder's buffers, not in the record.
const (
	ReasmIP        Reassembly = 1 << iota // IPv4/IPv6 fragments (RFC 791, RFC 8200 4.5)
	ReasmTCP                              // a TCP byte stream: the message is not one segment of this record
	ReasmSCTP                             // SCTP DATA fragments (RFC 9260 6.9)
	ReasmWebSocket                        // unwrapped from WebSocket frames (RFC 6455, RFC 7118)
	ReasmTLS                              // decrypted from TLS records (capture/tlsdec): never in the record
)

// MaxChain is how many headers Layers records; a deeper record is
// ChainFull and has no usable chain.
const MaxChain = 16

// Layers locates the headers of the record behind an event, so that a
// rewriter, a frame replayer or a recorder finds and changes bytes
// without decoding the encapsulations again (capture/fixup repairs the
// lengths and checksums afterwards). Offsets are bytes from the start of
// the record (Event.Packet's data, as Decode got it); a negative offset
// means "not in this record": the bytes were in a reassembly buffer.
//
// The decoder records only the chain of headers (cheap: two stores per
// header) and the payload's offset; the methods derive the rest and
// return -1 for a header that is absent. Example,
// RTP in VXLAN on Ethernet:
//
//	0        14          34    42      50        64          84    92
//	|Ethernet|IPv4 outer |UDP  |VXLAN  |Ethernet |IPv4 inner |UDP  |RTP ...
//	^L2      ^L3         ^L4                     ^InnerL3    ^InnerL4
//	                                                               ^Payload
//	Chain: Ethernet@0 IPv4@14 UDP@34 VXLAN@42 Ethernet@50 IPv4@64 UDP@84
//	L3Proto 4, L4Proto 17, Depth 1
//
// Without a tunnel L3 == InnerL3 and L4 == InnerL4. The chain describes
// the record the payload was completed in. For a reassembled payload
// (Reassembled != 0) Payload is negative unless the bytes lie whole in
// this record (a SIP message in one TCP segment), and headers that were
// inside reassembled bytes (the UDP header of a defragmented datagram)
// have negative offsets. FirstRecord and LastRecord are the record
// numbers (pcap.Packet.Number) of the first and last records that
// contributed to a reassembled payload, and 0 when the payload is all in
// Event.Packet's record; Event.Records answers for both cases.
type Layers struct {
	Payload     int32 // Event.Payload[0] in the record
	Reassembled Reassembly
	// N is the length of the chain, set when the walk reaches the
	// transport header (every event comes out of one). Protos[i] and
	// Offs[i], i < Len(), are the chain from the outermost header to the
	// one the payload came out of (see Header). Two arrays rather than
	// one of Header: the decoder's store is then one instruction per
	// field.
	N      uint8
	Protos [MaxChain]Proto
	Offs   [MaxChain]int32

	FirstRecord, LastRecord int
}

// ChainFull reports that the record had more than MaxChain headers: the
// chain is not usable (Len is 0).
func (l *Layers) ChainFull() bool { return l.N > MaxChain }

// Len is the number of headers in the chain; 0 when ChainFull.
func (l *Layers) Len() int {
	if l.N > MaxChain {
		return 0
	}
	return int(l.N)
}

// Header is the i-th header of the chain, 0 the outermost, i < Len().
func (l *Layers) Header(i int) Header { return Header{Off: l.Offs[i], Proto: l.Protos[i]} }

// IsIP reports whether p is an IP header.
func (p Proto) IsIP() bool { return p == ProtoIPv4 || p == ProtoIPv6 }

// IsL4 reports whether p is a transport header a payload comes out of.
func (p Proto) IsL4() bool { return p == ProtoUDP || p == ProtoTCP || p == ProtoSCTP }

// L2 is the offset of the first link-layer header: 0, or -1 for the raw
// IP link types.
func (l *Layers) L2() int32 {
	if l.Len() > 0 && !l.Protos[0].IsIP() {
		return l.Offs[0]
	}
	return -1
}

// L3 is the offset of the outermost IP header, -1 if none.
func (l *Layers) L3() int32 {
	for i := range l.Len() {
		if l.Protos[i].IsIP() {
			return l.Offs[i]
		}
	}
	return -1
}

// L4 is where the payload of the outermost IP header starts, after its
// extension headers: a UDP/TCP/SCTP header, or a tunnel's (GRE, inner
// IP); -1 if none.
func (l *Layers) L4() int32 {
	n := l.Len()
	for i := range n {
		if l.Protos[i].IsIP() {
			if i+1 < n {
				return l.Offs[i+1]
			}
			break
		}
	}
	return -1
}

// InnerL3 is the offset of the innermost IP header, the one Src and Dst
// come from; -1 if none.
func (l *Layers) InnerL3() int32 {
	_, off := l.inner(Proto.IsIP)
	return off
}

// InnerL4 is the offset of the UDP, TCP or SCTP header the payload came
// out of; -1 if none.
func (l *Layers) InnerL4() int32 {
	_, off := l.inner(Proto.IsL4)
	return off
}

// L3Proto is the IP version of the innermost IP header: 4, 6, or 0.
func (l *Layers) L3Proto() uint8 {
	switch p, _ := l.inner(Proto.IsIP); p {
	case ProtoIPv4:
		return 4
	case ProtoIPv6:
		return 6
	}
	return 0
}

// L4Proto is the IP protocol number of the innermost transport header:
// 17 UDP, 6 TCP, 132 SCTP, or 0.
func (l *Layers) L4Proto() uint8 {
	switch p, _ := l.inner(Proto.IsL4); p {
	case ProtoUDP:
		return ipProtoUDP
	case ProtoTCP:
		return ipProtoTCP
	case ProtoSCTP:
		return ipProtoSCTP
	}
	return 0
}

// Depth is the number of tunnel encapsulations: IP headers inside the
// outermost one (0 when not tunnelled).
func (l *Layers) Depth() int {
	n := 0
	for i := range l.Len() {
		if l.Protos[i].IsIP() {
			n++
		}
	}
	return max(n-1, 0)
}

// inner finds the innermost header of the chain for which is holds.
func (l *Layers) inner(is func(Proto) bool) (Proto, int32) {
	for i := l.Len() - 1; i >= 0; i-- {
		if is(l.Protos[i]) {
			return l.Protos[i], l.Offs[i]
		}
	}
	return 0, -1
}

// reset prepares l for a new record. Entries past N are stale and left
// alone, and Payload is set with every event: clearing more per packet
// would cost more than the chain.
func (l *Layers) reset() {
	if l.Reassembled != 0 { // records are set only with a reassembly
		l.FirstRecord, l.LastRecord = 0, 0
	}
	l.Reassembled, l.N = 0, 0
}

// set records header i of the chain. The walk passes the index down in
// a register and stores N once, at the transport header (not a counter
// read and written per header: that chain of dependent loads and stores
// cost the decoder 5%). Past MaxChain the index wraps instead of being
// checked and N > MaxChain marks the chain unusable (ChainFull); the
// decoder's depth limit keeps N far below 256.
func (l *Layers) set(i uint8, p Proto, off int32) {
	l.Protos[i&(MaxChain-1)] = p
	l.Offs[i&(MaxChain-1)] = off
}
