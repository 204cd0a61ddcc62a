package frame

import (
	"container/list"
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IANA protocol numbers Build understands.
const (
	ProtoTCP = 6
	ProtoUDP = 17
)

// Defaults for a zero Options.
const (
	DefaultMaxFlows = 4096
	DefaultIdle     = 5 * time.Minute
)

// maxPayload keeps the IPv4 total length and the UDP length (u16) valid
// with the largest headers we write (IPv6 40 + TCP 20).
const maxPayload = 65535 - 60

// Options configure a Builder; the zero value is useful.
type Options struct {
	// MaxFlows bounds the TCP sequence table (0: DefaultMaxFlows). When a
	// new direction arrives at the bound, the least recently used one is
	// evicted (counted in Stats.Evicted); it restarts at sequence 0 if it
	// comes back.
	MaxFlows int
	// Idle forgets a direction not seen for this much packet time
	// (0: DefaultIdle).
	Idle time.Duration
}

// Stats count what the sequence table did.
type Stats struct {
	Frames  uint64 // frames built
	Flows   int    // TCP directions held now
	Expired uint64 // directions forgotten after Idle of packet time
	Evicted uint64 // directions forgotten because the table was full
}

type flowKey [2]netip.AddrPort

type flow struct {
	key  flowKey
	next uint32    // next sequence number
	last time.Time // packet time of the latest segment
}

// Builder builds frames; one per goroutine (it reuses its buffers).
type Builder struct {
	o     Options
	flows map[flowKey]*list.Element
	lru   list.List // of *flow, least recently used at the front
	stats Stats

	buf     gopacket.SerializeBuffer
	eth     layers.Ethernet
	ip4     layers.IPv4
	ip6     layers.IPv6
	udp     layers.UDP
	tcp     layers.TCP
	mac     [12]byte
	src     [16]byte
	dst     [16]byte
	payload gopacket.Payload
}

// NewBuilder returns a Builder with o's bounds.
func NewBuilder(o Options) *Builder {
	if o.MaxFlows <= 0 {
		o.MaxFlows = DefaultMaxFlows
	}
	if o.Idle <= 0 {
		o.Idle = DefaultIdle
	}
	b := &Builder{o: o, flows: make(map[flowKey]*list.Element), buf: gopacket.NewSerializeBuffer()}
	// Zero MACs: the frame did not cross a real link we know of.
	b.eth.SrcMAC, b.eth.DstMAC = b.mac[:6], b.mac[6:]
	b.ip4 = layers.IPv4{Version: 4, TTL: 64}
	b.ip6 = layers.IPv6{Version: 6, HopLimit: 64}
	return b
}

// Build returns an Ethernet frame carrying payload from src to dst over
// TCP (proto ProtoTCP) or UDP (any other proto), as IPv4 when both
// addresses are IPv4 (or IPv4-mapped) and IPv6 otherwise (an IPv4 address
// then travels IPv4-mapped). t is the packet time: it drives the expiry of
// the TCP sequence table. The frame aliases the Builder's buffer and is
// valid until the next Build.
func (b *Builder) Build(src, dst netip.AddrPort, proto uint8, t time.Time, payload []byte) ([]byte, error) {
	sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
	if !sa.IsValid() || !da.IsValid() {
		return nil, ErrNoAddress
	}
	if len(payload) > maxPayload {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(payload))
	}
	ipProto := layers.IPProtocolUDP
	if proto == ProtoTCP {
		ipProto = layers.IPProtocolTCP
	}
	var ip gopacket.SerializableLayer
	var nl gopacket.NetworkLayer
	if sa.Is4() && da.Is4() {
		s4, d4 := sa.As4(), da.As4()
		copy(b.src[:], s4[:])
		copy(b.dst[:], d4[:])
		b.ip4.Protocol, b.ip4.SrcIP, b.ip4.DstIP = ipProto, b.src[:4], b.dst[:4]
		b.eth.EthernetType = layers.EthernetTypeIPv4
		ip, nl = &b.ip4, &b.ip4
	} else {
		b.src, b.dst = sa.As16(), da.As16()
		b.ip6.NextHeader, b.ip6.SrcIP, b.ip6.DstIP = ipProto, b.src[:], b.dst[:]
		b.eth.EthernetType = layers.EthernetTypeIPv6
		ip, nl = &b.ip6, &b.ip6
	}
	var l4 gopacket.SerializableLayer
	if ipProto == layers.IPProtocolTCP {
		b.tcp = layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
			Seq: b.nextSeq(flowKey{src, dst}, t, len(payload)), PSH: true, ACK: true, Window: 65535}
		_ = b.tcp.SetNetworkLayerForChecksum(nl)
		l4 = &b.tcp
	} else {
		b.udp = layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
		_ = b.udp.SetNetworkLayerForChecksum(nl)
		l4 = &b.udp
	}
	b.payload = payload
	if err := gopacket.SerializeLayers(b.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&b.eth, ip, l4, &b.payload); err != nil {
		return nil, fmt.Errorf("frame: serialize: %w", err)
	}
	b.stats.Frames++
	return b.buf.Bytes(), nil
}

// nextSeq returns the sequence number of a segment of n bytes on k and
// advances it, expiring and evicting as it goes.
func (b *Builder) nextSeq(k flowKey, t time.Time, n int) uint32 {
	b.expire(t)
	if el, ok := b.flows[k]; ok {
		f := el.Value.(*flow)
		seq := f.next
		f.next += uint32(n)
		if t.After(f.last) {
			f.last = t
		}
		b.lru.MoveToBack(el)
		return seq
	}
	if len(b.flows) >= b.o.MaxFlows {
		b.remove(b.lru.Front())
		b.stats.Evicted++
	}
	b.flows[k] = b.lru.PushBack(&flow{key: k, next: uint32(n), last: t})
	return 0
}

// expire forgets directions idle for longer than Idle of packet time.
// The list is in order of use, which is packet-time order unless the
// input's time goes backwards; then an entry waits until it reaches the
// front, which only delays its expiry.
func (b *Builder) expire(t time.Time) {
	limit := t.Add(-b.o.Idle)
	for el := b.lru.Front(); el != nil && el.Value.(*flow).last.Before(limit); el = b.lru.Front() {
		b.remove(el)
		b.stats.Expired++
	}
}

func (b *Builder) remove(el *list.Element) {
	delete(b.flows, el.Value.(*flow).key)
	b.lru.Remove(el)
}

// Stats returns the counters.
func (b *Builder) Stats() Stats {
	s := b.stats
	s.Flows = len(b.flows)
	return s
}
