package capture

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/voiptool/voiptool/capture/sipstream"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/rtpstats"
	"github.com/voiptool/voiptool/sipflow"
)

// EtherTypes dispatched by the decoder. gopacket's table lacks 0x9100 and
// ERSPAN type III, and we want the VLAN id and tunnel flag on the way, so
// the decoder picks the next layer itself.
const (
	etherIPv4     = 0x0800
	etherIPv6     = 0x86dd
	etherVLAN     = 0x8100 // IEEE 802.1Q
	etherQinQ     = 0x88a8 // IEEE 802.1ad service tag
	etherQinQOld  = 0x9100 // pre-802.1ad vendor QinQ
	etherPPPoE    = 0x8864 // PPPoE session stage (RFC 2516)
	etherTEB      = 0x6558 // transparent Ethernet bridging (GRE)
	etherPPP      = 0x880b // PPP inside GRE (RFC 2637)
	etherERSPAN2  = 0x88be // ERSPAN type II
	etherERSPAN3  = 0x22eb // ERSPAN type III
	ipProtoIPIP   = 4
	ipProtoTCP    = 6
	ipProtoUDP    = 17
	ipProtoIPv6   = 41
	ipProtoGRE    = 47
	ipProtoSCTP   = 132
	vxlanPort     = 4789 // RFC 7348 5
	vxlanHeader   = 8
	vxlanFlagI    = 0x08 // RFC 7348 5: VNI valid
	pppoeHeader   = 6    // RFC 2516 4
	pppIPv4       = 0x0021
	pppIPv6       = 0x0057
	sllHeader     = 16
	sll2Header    = 20
	erspan2Header = 8
	erspan3Header = 12
	erspan3Sub    = 8 // optional platform-specific subheader (O flag)
)

// feedback records gopacket's truncation signal without allocating.
type feedback struct{ truncated bool }

func (f *feedback) SetTruncated() { f.truncated = true }

// Decoder turns capture records into Events. It is not safe for
// concurrent use: use one per goroutine.
//
// The gopacket layers are decoded in place into structs held here, each
// with DecodeFromBytes, in a walk the Decoder drives itself rather than
// through gopacket.DecodingLayerParser: between layers it records the VLAN
// id, decides tunnels against a depth limit, reassembles fragments and
// handles headers gopacket has no DecodingLayer for (PPPoE, PPP, SLL2,
// ERSPAN III). The walk stops at L4; everything above is our own
// classifier. gopacket's layers.SIP is never used.
//
// A parser for the common chain was built and measured, and is not used
// because it is slower. The variant tried was the fastest gopacket
// offers: a DecodingLayerSparse over these Ethernet, Dot1Q, IPv4, IPv6,
// UDP and TCP structs, built once and called through LayersDecoder (no
// per-packet defer/recover). The hand walk resumed after the parser's
// last layer, and decoded the record again itself whenever the parser
// met anything else. A differential test over every prefix of 29 frames
// found the two paths identical. On BenchmarkDecodeVsFloor (median of 4
// alternating runs, 2M packets, against this walk as it was then) the
// ratio rose from 1.44 to 1.74, and from 898 to 1227 instructions per
// packet (callgrind). The parser's loop, the NextLayerType calls and
// UDP's port-to-layer lookup cost more than the switches on EtherType
// and IP protocol they replace, and the work after IP still had to be
// done. With UDP and TCP left out of the parser the ratio was still 1.68.
type Decoder struct {
	o Options

	eth  layers.Ethernet
	vlan layers.Dot1Q
	ip4  layers.IPv4
	ip6  layers.IPv6
	udp  layers.UDP
	tcp  layers.TCP
	gre  layers.GRE
	fb   feedback

	asm   *sipstream.Assembler
	onMsg func(*sipstream.Message)
	seg   sipstream.Segment

	frag  defragger
	sctpR sctpReassembler
	media mediaTable
	flows flowTable
	sip   sipflow.Message // SIP messages parsed for their SDP (learnSDP)

	// per record; the record's pcap.Packet lives in ev.Packet (copied once
	// per record: it is the event's too)
	data       []byte
	emit       func(*Event)
	err        *DecodeError
	vlanID     uint16
	hasVLAN    bool
	tunnel     bool
	ev         Event
	maxHeaders int   // chain index at which the walk stops: ErrTooDeep (enter)
	inAdd      bool  // streamMessage is called for the current segment (not an expiry or flush)
	base       int32 // cap of the record, or foreignBase in reassembled bytes (offset)
	segCursor  int   // bytes of d.seg.Payload already matched to messages (inSegment)

	// The clock: the current record's time, the only one. The per-packet
	// comparisons use Unix nanoseconds, because time.Time's Before/Sub
	// (wall/monotonic and overflow handling) cost more than the rest of
	// the record bookkeeping; time.Time is kept for what is stored.
	now          time.Time
	nowNS        int64
	lastNS       int64 // previous record's time
	nextExpireNS int64

	stats Stats
}

// NewDecoder builds a Decoder; all layer structs and tables are allocated
// here, once.
func NewDecoder(o Options) *Decoder {
	o = o.withDefaults()
	d := &Decoder{o: o, asm: sipstream.New(o.Stream), maxHeaders: o.MaxDepth * 4}
	// Before any record: nothing is earlier, and the first record sweeps.
	d.lastNS, d.nextExpireNS = math.MinInt64, math.MinInt64
	d.onMsg = d.streamMessage
	d.frag.init(o.MaxFragDatagrams)
	d.sctpR.init()
	d.media.init(o.MaxMedia)
	d.flows.init(o.MaxFlows)
	return d
}

// Decode decodes one record and calls emit for every payload it
// classifies (zero, one or several: SCTP bundles, TCP segments completing
// several SIP messages). The Event and its Payload are reused: valid only
// until emit returns. data is not retained after Decode returns.
//
// The error, a *DecodeError wrapping a sentinel, is only for a malformed
// or unsupported record; what could be decoded before the fault has been
// emitted already.
func (d *Decoder) Decode(data []byte, p pcap.Packet, emit func(*Event)) error {
	return d.decode(data, &p, emit)
}

// decode is Decode with the record's pcap.Packet by reference: Run's
// merge holds it in memory already, and the 72-byte copies a value
// parameter takes cost more than the record's merge (stalls on stores
// read back at once).
func (d *Decoder) decode(data []byte, pp *pcap.Packet, emit func(*Event)) error {
	d.stats.Packets++
	d.ev.Packet = *pp
	p := pp // not d.ev.Packet: an expiry below may deliver held events
	d.data = data
	d.emit = emit
	d.err = nil
	d.vlanID = 0
	d.hasVLAN = false
	d.tunnel = false
	d.fb.truncated = false
	d.ev.Layers.reset()
	d.base = int32(cap(data))
	if p.Length > len(data) {
		d.stats.Truncated++
	} else if p.Length > 0 && p.Length < len(data) {
		d.stats.CaptureOverLength++
	}
	t := unixNano(p.Timestamp)
	if t < d.lastNS {
		d.stats.NonMonotonic++
		if t < satAdd(d.nextExpireNS, -2*int64(DefaultExpireInterval)) {
			// Time went backwards (merged files, a bogus record): sweep on
			// the new timeline instead of waiting to catch up with the old.
			d.nextExpireNS = t
		}
	}
	d.lastNS = t
	// The clock is the current record's time, not the latest seen: one
	// record stamped decades ahead must not stall expiry for the rest.
	d.now, d.nowNS = p.Timestamp, t
	if t >= d.nextExpireNS {
		d.expire(emit)
		// Messages the expiry flushed came from older records; what it
		// left in Layers must not leak into this record's events.
		d.ev.Layers.reset()
	}
	d.link(data, p.LinkType)
	if d.hasVLAN {
		d.stats.VLAN++
	}
	if d.err != nil {
		d.stats.DecodeErrors++
		return d.err
	}
	return nil
}

// Flush delivers what is still buffered at the end of input: SIP
// messages framed by end of stream. Incomplete IP and SCTP fragments,
// and packets held for SSRCs the RTP heuristic has not confirmed, are
// dropped and counted.
func (d *Decoder) Flush(emit func(*Event)) {
	d.emit = emit
	d.ev.Packet = pcap.Packet{}
	d.data, d.base = nil, foreignBase
	d.ev.Layers.reset()
	d.asm.Flush(d.onMsg)
	d.stats.FragmentsExpired += d.frag.expire(time.Time{}, true)
	d.flows.flush()
}

// Fragments is Stats().Fragments without assembling the rest of Stats:
// a per-record check (did this record hold an IP fragment?) for callers
// that rewrite records.
func (d *Decoder) Fragments() int { return d.stats.Fragments }

// Stats returns the counters so far.
func (d *Decoder) Stats() Stats {
	s := d.stats
	s.Stream = d.asm.Stats()
	s.TLSStreams = int(s.Stream.TLSStreams)
	s.RTPHeuristicDropped = d.flows.dropped
	s.MediaEvicted = d.media.evicted
	return s
}

// unixNano is t in Unix nanoseconds, saturated outside the years
// 1678-2262 that int64 holds (t.UnixNano is undefined there): a bogus
// record time must not wrap around into the middle of the capture.
func unixNano(t time.Time) int64 {
	const maxSec = math.MaxInt64/int64(time.Second) - 1
	switch s := t.Unix(); {
	case s > maxSec:
		return math.MaxInt64
	case s < -maxSec:
		return math.MinInt64
	default:
		return s*int64(time.Second) + int64(t.Nanosecond())
	}
}

// satAdd is a+b clamped to the int64 range (b is a duration, so one
// overflow direction per sign).
func satAdd(a, b int64) int64 {
	c := a + b
	if b > 0 && c < a {
		return math.MaxInt64
	}
	if b < 0 && c > a {
		return math.MinInt64
	}
	return c
}

func (d *Decoder) expire(emit func(*Event)) {
	d.nextExpireNS = satAdd(d.nowNS, int64(DefaultExpireInterval))
	d.stats.FragmentsExpired += d.frag.expire(d.now.Add(-d.o.FragTimeout), false)
	d.media.expire(satAdd(d.nowNS, -int64(d.o.MediaTimeout)))
	d.flows.expire(d.now.Add(-d.o.FlowTimeout))
	d.sctpR.expire(d.now.Add(-d.o.FragTimeout))
	d.emit = emit
	idle := d.o.Stream.IdleTimeout
	if idle <= 0 {
		idle = sipstream.DefaultIdleTimeout
	}
	d.asm.ExpireBefore(d.now.Add(-idle), d.onMsg)
}

// fail records the first error of the record. Truncation caused by the
// snaplen is counted, not reported: the record is short on purpose.
func (d *Decoder) fail(sentinel error, layer, detail string) {
	if d.err != nil {
		return
	}
	if d.ev.Packet.Length > len(d.data) && (sentinel == ErrTruncated || d.fb.truncated) {
		return
	}
	d.err = &DecodeError{Packet: d.ev.Packet.Number, Offset: d.ev.Packet.Offset, Layer: layer, Detail: detail, Err: sentinel}
}

// enter checks the nesting before decoding a layer at chain index n. The
// index grows with every header along the walk, so it bounds the depth
// without a counter kept in memory (a load and store per layer, each
// waiting on the last).
func (d *Decoder) enter(layer string, n uint8) bool {
	if int(n) >= d.maxHeaders {
		d.fail(ErrTooDeep, layer, "")
		return false
	}
	return true
}

// offset is where s, a window on the current record, starts in it, or a
// negative number once the walk has gone into a reassembly buffer (base
// is then foreignBase). Every slice the walk makes is data[i:] or
// data[i:j] of the record (gopacket's layers never cut capacity), so the
// capacity tells the offset: two instructions, where checking addresses
// cost the decoder 5%. checkLayers in FuzzDecode holds the invariant.
func (d *Decoder) offset(s []byte) int32 { return d.base - int32(cap(s)) }

// foreignBase makes offset negative for any slice (records are far
// below 1 GiB, so the difference cannot wrap).
const foreignBase = -1 << 30

func (d *Decoder) link(data []byte, lt pcap.LinkType) {
	switch lt {
	case pcap.LinkTypeEthernet:
		d.ether(data, 0)
	case pcap.LinkTypeNull, pcap.LinkTypeLoop:
		if len(data) < 4 {
			d.fail(ErrTruncated, "loopback header", "")
			return
		}
		d.ev.Layers.set(0, ProtoLoopback, 0)
		af := binary.LittleEndian.Uint32(data)
		if lt == pcap.LinkTypeLoop || af > 0xffff {
			// LOOP is network order; NULL is host order of the capturing
			// machine, so a big-endian writer shows up as a huge value.
			af = binary.BigEndian.Uint32(data)
		}
		switch af {
		case 2: // AF_INET
			d.ipv4(data[4:], 1)
		case 10, 24, 28, 30: // AF_INET6: Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			d.ipv6(data[4:], 1)
		default:
			d.stats.Other++
		}
	case pcap.LinkTypeRaw, pcap.LinkTypeRawOld12, pcap.LinkTypeRawOld14:
		d.rawIP(data)
	case pcap.LinkTypeIPv4:
		d.ipv4(data, 0)
	case pcap.LinkTypeIPv6:
		d.ipv6(data, 0)
	case pcap.LinkTypePPP:
		d.ppp(data, 0)
	case pcap.LinkTypeLinuxSLL:
		if len(data) < sllHeader {
			d.fail(ErrTruncated, "Linux SLL header", "")
			return
		}
		d.ev.Layers.set(0, ProtoSLL, 0)
		d.etherType(binary.BigEndian.Uint16(data[14:16]), data[sllHeader:], 1)
	case pcap.LinkTypeSLL2:
		if len(data) < sll2Header {
			d.fail(ErrTruncated, "Linux SLL2 header", "")
			return
		}
		d.ev.Layers.set(0, ProtoSLL2, 0)
		d.etherType(binary.BigEndian.Uint16(data[0:2]), data[sll2Header:], 1)
	default:
		d.stats.UnsupportedLinkTypes++
		d.fail(ErrUnsupportedLinkType, "", lt.String())
	}
}

func (d *Decoder) rawIP(data []byte) {
	if len(data) == 0 {
		d.fail(ErrTruncated, "raw IP", "empty record")
		return
	}
	switch data[0] >> 4 {
	case 4:
		d.ipv4(data, 0)
	case 6:
		d.ipv6(data, 0)
	default:
		d.fail(ErrMalformed, "raw IP", "IP version nibble is neither 4 nor 6")
	}
}

func (d *Decoder) ether(data []byte, n uint8) {
	if !d.enter("Ethernet", n) {
		return
	}
	if err := d.eth.DecodeFromBytes(data, &d.fb); err != nil {
		d.fail(ErrTruncated, "Ethernet", err.Error())
		return
	}
	d.ev.Layers.set(n, ProtoEthernet, d.offset(data))
	d.etherType(uint16(d.eth.EthernetType), d.eth.Payload, n+1)
}

func (d *Decoder) etherType(et uint16, payload []byte, n uint8) {
	switch et {
	case etherIPv4:
		d.ipv4(payload, n)
	case etherIPv6:
		d.ipv6(payload, n)
	case etherVLAN, etherQinQ, etherQinQOld:
		if !d.enter("802.1Q", n) {
			return
		}
		if err := d.vlan.DecodeFromBytes(payload, &d.fb); err != nil {
			d.fail(ErrTruncated, "802.1Q tag", err.Error())
			return
		}
		d.hasVLAN = true
		d.ev.Layers.set(n, ProtoVLAN, d.offset(payload))
		d.vlanID = d.vlan.VLANIdentifier
		d.etherType(uint16(d.vlan.Type), d.vlan.Payload, n+1)
	case etherPPPoE:
		// RFC 2516 4: ver/type, code (0 in session stage), session id, length.
		if len(payload) < pppoeHeader {
			d.fail(ErrTruncated, "PPPoE header", "")
			return
		}
		if payload[0] != 0x11 || payload[1] != 0 {
			d.stats.Other++
			return
		}
		d.stats.PPPoE++
		d.ev.Layers.set(n, ProtoPPPoE, d.offset(payload))
		body := payload[pppoeHeader:]
		if n := int(binary.BigEndian.Uint16(payload[4:6])); n < len(body) {
			body = body[:n]
		}
		d.ppp(body, n+1)
	case etherTEB:
		d.ether(payload, n)
	case etherPPP:
		d.ppp(payload, n)
	case etherERSPAN2:
		if len(payload) < erspan2Header {
			d.fail(ErrTruncated, "ERSPAN II header", "")
			return
		}
		d.stats.TunnelERSPAN++
		d.tunnel = true
		d.ev.Layers.set(n, ProtoERSPAN, d.offset(payload))
		d.ether(payload[erspan2Header:], n+1)
	case etherERSPAN3:
		if len(payload) < erspan3Header {
			d.fail(ErrTruncated, "ERSPAN III header", "")
			return
		}
		hl := erspan3Header
		if payload[11]&0x01 != 0 { // O flag: platform-specific subheader follows
			hl += erspan3Sub
		}
		if len(payload) < hl {
			d.fail(ErrTruncated, "ERSPAN III subheader", "")
			return
		}
		d.stats.TunnelERSPAN++
		d.tunnel = true
		d.ev.Layers.set(n, ProtoERSPAN, d.offset(payload))
		d.ether(payload[hl:], n+1)
	default:
		d.stats.Other++
	}
}

// ppp decodes a PPP header (RFC 1661 2) with optional HDLC address and
// control bytes (RFC 1662 3.1) and a possibly compressed protocol field.
func (d *Decoder) ppp(data []byte, n uint8) {
	if !d.enter("PPP", n) {
		return
	}
	d.ev.Layers.set(n, ProtoPPP, d.offset(data))
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		data = data[2:]
	}
	if len(data) < 1 {
		d.fail(ErrTruncated, "PPP header", "")
		return
	}
	var proto uint16
	if data[0]&1 == 1 { // compressed one-byte protocol field (RFC 1661 6.5)
		proto, data = uint16(data[0]), data[1:]
	} else {
		if len(data) < 2 {
			d.fail(ErrTruncated, "PPP header", "")
			return
		}
		proto, data = binary.BigEndian.Uint16(data), data[2:]
	}
	switch proto {
	case pppIPv4:
		d.ipv4(data, n+1)
	case pppIPv6:
		d.ipv6(data, n+1)
	default:
		d.stats.Other++ // LCP, IPCP, CHAP ...
	}
}

func (d *Decoder) ipv4(data []byte, n uint8) {
	if !d.enter("IPv4", n) {
		return
	}
	if len(data) == 0 || data[0]>>4 != 4 {
		if len(data) == 0 {
			d.fail(ErrTruncated, "IPv4 header", "")
		} else {
			d.fail(ErrMalformed, "IPv4 header", "version is not 4")
		}
		return
	}
	if err := d.ip4.DecodeFromBytes(data, &d.fb); err != nil {
		if len(data) < 20 {
			d.fail(ErrTruncated, "IPv4 header", err.Error())
		} else {
			d.fail(ErrMalformed, "IPv4 header", err.Error())
		}
		return
	}
	d.stats.IPv4++
	d.ev.Layers.set(n, ProtoIPv4, d.offset(data))
	src := netip.AddrFrom4([4]byte(d.ip4.SrcIP))
	dst := netip.AddrFrom4([4]byte(d.ip4.DstIP))
	proto := uint8(d.ip4.Protocol)
	payload := d.ip4.Payload
	if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
		d.stats.Fragments++
		whole, ok := d.frag.add(d, fragKey{src: src, dst: dst, id: uint32(d.ip4.Id), proto: proto},
			int(d.ip4.FragOffset)*8, d.ip4.Flags&layers.IPv4MoreFragments != 0, payload)
		if !ok {
			return
		}
		payload = whole
		d.ev.Layers.Reassembled |= ReasmIP
		d.base = foreignBase
	}
	d.ipPayload(proto, payload, src, dst, n+1)
}

// IPv6 extension headers walked after the fixed header (RFC 8200 4).
const (
	ip6HopByHop = 0
	ip6Routing  = 43
	ip6Fragment = 44
	ip6ESP      = 50
	ip6AH       = 51
	ip6NoNext   = 59
	ip6DestOpts = 60
	ip6Mobility = 135
	ip6HIP      = 139
	ip6Shim6    = 140
	maxExtHdrs  = 16
)

func (d *Decoder) ipv6(data []byte, n uint8) {
	if !d.enter("IPv6", n) {
		return
	}
	if len(data) == 0 || data[0]>>4 != 6 {
		if len(data) == 0 {
			d.fail(ErrTruncated, "IPv6 header", "")
		} else {
			d.fail(ErrMalformed, "IPv6 header", "version is not 6")
		}
		return
	}
	if err := d.ip6.DecodeFromBytes(data, &d.fb); err != nil {
		if len(data) < 40 {
			d.fail(ErrTruncated, "IPv6 header", err.Error())
		} else {
			d.fail(ErrMalformed, "IPv6 header", err.Error())
		}
		return
	}
	d.stats.IPv6++
	d.ev.Layers.set(n, ProtoIPv6, d.offset(data))
	src := netip.AddrFrom16([16]byte(d.ip6.SrcIP))
	dst := netip.AddrFrom16([16]byte(d.ip6.DstIP))
	nh := uint8(d.ip6.NextHeader)
	if d.ip6.HopByHop != nil {
		nh = uint8(d.ip6.HopByHop.NextHeader)
	}
	payload := d.ip6.Payload
	for range maxExtHdrs {
		switch nh {
		case ip6HopByHop, ip6Routing, ip6DestOpts, ip6Mobility, ip6HIP, ip6Shim6:
			if len(payload) < 8 {
				d.fail(ErrTruncated, "IPv6 extension header", "")
				return
			}
			hl := (int(payload[1]) + 1) * 8
			if hl > len(payload) {
				d.fail(ErrTruncated, "IPv6 extension header", "length beyond packet")
				return
			}
			nh, payload = payload[0], payload[hl:]
		case ip6AH: // RFC 4302 2.2: length in 4-octet units minus 2
			if len(payload) < 8 {
				d.fail(ErrTruncated, "IPv6 AH header", "")
				return
			}
			hl := (int(payload[1]) + 2) * 4
			if hl > len(payload) {
				d.fail(ErrTruncated, "IPv6 AH header", "length beyond packet")
				return
			}
			nh, payload = payload[0], payload[hl:]
		case ip6Fragment: // RFC 8200 4.5
			if len(payload) < 8 {
				d.fail(ErrTruncated, "IPv6 fragment header", "")
				return
			}
			next := payload[0]
			off := int(binary.BigEndian.Uint16(payload[2:4]) &^ 7)
			more := payload[3]&1 != 0
			id := binary.BigEndian.Uint32(payload[4:8])
			if off == 0 && !more { // atomic fragment (RFC 6946)
				nh, payload = next, payload[8:]
				continue
			}
			d.stats.Fragments++
			whole, ok := d.frag.add(d, fragKey{src: src, dst: dst, id: id, proto: next, v6: true}, off, more, payload[8:])
			if !ok {
				return
			}
			d.ev.Layers.Reassembled |= ReasmIP
			d.base = foreignBase
			nh, payload = next, whole
		default:
			d.ipPayload(nh, payload, src, dst, n+1)
			return
		}
	}
	d.fail(ErrMalformed, "IPv6 extension headers", "too many")
}

func (d *Decoder) ipPayload(proto uint8, payload []byte, src, dst netip.Addr, n uint8) {
	switch proto {
	case ipProtoUDP:
		d.udpLayer(payload, src, dst, n)
	case ipProtoTCP:
		d.tcpLayer(payload, src, dst, n)
	case ipProtoSCTP:
		d.sctpLayer(payload, src, dst, n)
	case ipProtoIPIP:
		d.stats.TunnelIPIP++
		d.tunnel = true
		d.ipv4(payload, n)
	case ipProtoIPv6:
		d.stats.TunnelIPIP++
		d.tunnel = true
		d.ipv6(payload, n)
	case ipProtoGRE:
		if !d.enter("GRE", n) {
			return
		}
		if err := d.gre.DecodeFromBytes(payload, &d.fb); err != nil {
			d.fail(ErrTruncated, "GRE header", err.Error())
			return
		}
		d.stats.TunnelGRE++
		d.tunnel = true
		d.ev.Layers.set(n, ProtoGRE, d.offset(payload))
		d.etherType(uint16(d.gre.Protocol), d.gre.Payload, n+1)
	default:
		d.stats.Other++ // ICMP, ESP, OSPF ...
	}
}

func (d *Decoder) udpLayer(data []byte, src, dst netip.Addr, n uint8) {
	if err := d.udp.DecodeFromBytes(data, &d.fb); err != nil {
		if len(data) < 8 {
			d.fail(ErrTruncated, "UDP header", err.Error())
		} else {
			d.fail(ErrMalformed, "UDP header", err.Error())
		}
		return
	}
	d.stats.UDP++
	l := &d.ev.Layers
	l.set(n, ProtoUDP, d.offset(data))
	payload := d.udp.Payload
	if d.udp.DstPort == vxlanPort && len(payload) >= vxlanHeader && payload[0]&vxlanFlagI != 0 {
		d.stats.TunnelVXLAN++
		d.tunnel = true
		l.set(n+1, ProtoVXLAN, d.offset(payload))
		d.ether(payload[vxlanHeader:], n+2)
		return
	}
	l.N = n + 1
	s := netip.AddrPortFrom(src, uint16(d.udp.SrcPort))
	t := netip.AddrPortFrom(dst, uint16(d.udp.DstPort))
	d.classifyDatagram(payload, s, t, TransportUDP)
}

func (d *Decoder) tcpLayer(data []byte, src, dst netip.Addr, n uint8) {
	if err := d.tcp.DecodeFromBytes(data, &d.fb); err != nil {
		if len(data) < 20 {
			d.fail(ErrTruncated, "TCP header", err.Error())
		} else {
			d.fail(ErrMalformed, "TCP header", err.Error())
		}
		return
	}
	d.stats.TCP++
	d.ev.Layers.set(n, ProtoTCP, d.offset(data))
	d.ev.Layers.N = n + 1
	d.seg = sipstream.Segment{
		Src:     netip.AddrPortFrom(src, uint16(d.tcp.SrcPort)),
		Dst:     netip.AddrPortFrom(dst, uint16(d.tcp.DstPort)),
		Seq:     d.tcp.Seq,
		SYN:     d.tcp.SYN,
		FIN:     d.tcp.FIN,
		RST:     d.tcp.RST,
		Payload: d.tcp.Payload,
		Time:    d.ev.Packet.Timestamp,
		Ref:     uint64(d.ev.Packet.Number),
	}
	d.segCursor, d.inAdd = 0, true
	d.asm.Add(&d.seg, d.onMsg)
	d.inAdd = false
}

// streamMessage turns a framed SIP message from sipstream into an Event.
func (d *Decoder) streamMessage(m *sipstream.Message) {
	pk := d.ev.Packet
	if pk.Number == 0 { // flushed at end of input: name the last segment
		pk = pcap.Packet{Number: int(m.LastRef), Timestamp: m.Time}
	}
	// Field by field: the record's Layers stay.
	d.ev.Kind, d.ev.Transport, d.ev.Time = KindSIP, TransportTCP, m.Time
	d.ev.Src, d.ev.Dst, d.ev.Payload = m.Src, m.Dst, m.Payload
	d.ev.Packet, d.ev.VLAN, d.ev.Tunnel = pk, d.vlanID, d.tunnel
	d.ev.RTP = rtpstats.Fixed{}
	l := &d.ev.Layers
	l.Payload = d.inSegment(m)
	l.Reassembled &^= ReasmTCP | ReasmWebSocket | ReasmTLS
	l.FirstRecord, l.LastRecord = 0, 0
	if l.Payload < 0 {
		l.Reassembled |= ReasmTCP
		l.FirstRecord, l.LastRecord = int(m.FirstRef), int(m.LastRef)
	}
	if m.WebSocket {
		d.ev.Transport = TransportWS
		l.Reassembled |= ReasmWebSocket
	}
	if m.TLS {
		d.ev.Transport = TransportTLS
		if m.WebSocket {
			d.ev.Transport = TransportWSS
		}
		l.Reassembled |= ReasmTLS
	}
	d.stats.SIP++
	if d.emit != nil {
		d.emit(&d.ev)
	}
	d.learnSDP(m.Payload) // after delivery, as in classifyDatagram
}

// inSegment finds a framed message in the current record: the assembler
// hands over a copy, but a message all of whose bytes came from this
// segment is also there, in order after the ones before it (d.segCursor).
// Other messages are not in the record: -1.
func (d *Decoder) inSegment(m *sipstream.Message) int32 {
	seg := d.seg.Payload
	if !d.inAdd || m.WebSocket || m.TLS || m.FirstRef != m.LastRef || m.LastRef != uint64(d.ev.Packet.Number) ||
		d.segCursor > len(seg) {
		return -1
	}
	rest := seg[d.segCursor:]
	i := 0
	if !bytes.HasPrefix(rest, m.Payload) {
		if i = bytes.Index(rest, m.Payload); i < 0 {
			return -1
		}
	}
	off := d.offset(rest[i:])
	if off >= 0 {
		d.segCursor += i + len(m.Payload)
	}
	return off
}

// deliver emits a classified datagram payload of the current record;
// classifyDatagram has set d.ev.Src and d.ev.Dst.
func (d *Decoder) deliver(k Kind, tr Transport, payload []byte) {
	d.ev.Layers.Payload = d.offset(payload) // small enough to stay inlined
	d.emitEvent(k, tr, payload)
}

// deliverAt emits a payload of another record (a held packet; d.ev.Packet
// and Layers are already that record's) with its own endpoints.
func (d *Decoder) deliverAt(k Kind, tr Transport, payload []byte, src, dst netip.AddrPort) {
	d.ev.Src, d.ev.Dst = src, dst
	d.emitEvent(k, tr, payload)
}

// emitEvent completes and emits d.ev, a payload of the record in
// d.ev.Packet (its time is the event's); Layers.Payload is set (by
// deliver, or held with the packet).
func (d *Decoder) emitEvent(k Kind, tr Transport, payload []byte) {
	d.ev.Time = d.ev.Packet.Timestamp
	d.ev.Kind = k
	d.ev.Transport = tr
	d.ev.Payload = payload
	d.ev.VLAN = d.vlanID
	d.ev.Tunnel = d.tunnel // Source is Run's to set
	d.ev.SIP = nil         // the consumer's to set (see learnSDP)
	switch k {
	case KindSIP:
		d.stats.SIP++
		d.ev.RTP = rtpstats.Fixed{}
	case KindRTP:
		d.stats.RTP++
	case KindRTCP:
		d.stats.RTCP++
		d.ev.RTP = rtpstats.Fixed{}
	case KindHEP:
		d.stats.HEP++
		d.ev.RTP = rtpstats.Fixed{}
	}
	if d.emit != nil {
		d.emit(&d.ev)
	}
}

var _ gopacket.DecodeFeedback = (*feedback)(nil)
