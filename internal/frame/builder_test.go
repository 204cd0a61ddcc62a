package frame

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// sum16 is the RFC 1071 one's-complement sum, written here independently
// of gopacket so the test checks the checksums rather than trusting them.
func sum16(sum uint32, b []byte) uint32 {
	for ; len(b) >= 2; b = b[2:] {
		sum += uint32(binary.BigEndian.Uint16(b))
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// checkFrame decodes a built frame by hand: lengths and checksums must be
// right, and the payload must come back.
func checkFrame(t *testing.T, f []byte, src, dst netip.AddrPort, proto uint8, payload string) (seq uint32) {
	t.Helper()
	if len(f) < 14 {
		t.Fatalf("frame of %d bytes", len(f))
	}
	et := binary.BigEndian.Uint16(f[12:])
	ip := f[14:]
	var l4 []byte
	var pseudo uint32
	switch et {
	case 0x0800:
		hl := int(ip[0]&0x0f) * 4
		if tl := int(binary.BigEndian.Uint16(ip[2:])); tl < len(ip) && len(f) == 60 {
			ip = ip[:tl] // Ethernet pads a short frame to its 60-byte minimum
		}
		if int(binary.BigEndian.Uint16(ip[2:])) != len(ip) || ip[9] != proto {
			t.Fatalf("IPv4 total length %d for %d bytes, proto %d", binary.BigEndian.Uint16(ip[2:]), len(ip), ip[9])
		}
		if fold(sum16(0, ip[:hl])) != 0xffff {
			t.Fatal("IPv4 header checksum wrong")
		}
		if netip.AddrFrom4([4]byte(ip[12:16])) != src.Addr().Unmap() || netip.AddrFrom4([4]byte(ip[16:20])) != dst.Addr().Unmap() {
			t.Fatal("IPv4 addresses")
		}
		l4 = ip[hl:]
		pseudo = sum16(sum16(0, ip[12:20]), []byte{0, proto})
	case 0x86dd:
		if int(binary.BigEndian.Uint16(ip[4:]))+40 != len(ip) || ip[6] != proto {
			t.Fatal("IPv6 payload length or next header")
		}
		l4 = ip[40:]
		pseudo = sum16(sum16(0, ip[8:40]), []byte{0, proto})
	default:
		t.Fatalf("ethertype %#x", et)
	}
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(l4)))
	if fold(sum16(sum16(pseudo, l[:]), l4)) != 0xffff {
		t.Fatal("L4 checksum wrong")
	}
	if binary.BigEndian.Uint16(l4) != src.Port() || binary.BigEndian.Uint16(l4[2:]) != dst.Port() {
		t.Fatal("ports")
	}
	var body []byte
	if proto == ProtoUDP {
		if int(binary.BigEndian.Uint16(l4[4:])) != len(l4) {
			t.Fatal("UDP length")
		}
		body = l4[8:]
	} else {
		seq = binary.BigEndian.Uint32(l4[4:])
		body = l4[int(l4[12]>>4)*4:]
	}
	if string(body) != payload {
		t.Fatalf("payload %q", body)
	}
	// gopacket agrees on the layers up to L4 (above, it guesses by port:
	// SIP on 5060 that is not SIP is its error, not ours).
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	if p.NetworkLayer() == nil || p.TransportLayer() == nil {
		t.Fatalf("gopacket: %v", p)
	}
	return seq
}

func TestBuild(t *testing.T) {
	ap := netip.MustParseAddrPort
	t0 := time.Unix(1700000000, 0)
	tests := []struct {
		name     string
		src, dst netip.AddrPort
		proto    uint8
	}{
		{"udp4", ap("10.0.0.1:5060"), ap("10.0.0.2:5080"), ProtoUDP},
		{"tcp4", ap("10.0.0.1:5060"), ap("10.0.0.2:5080"), ProtoTCP},
		{"udp6", ap("[2001:db8::1]:5060"), ap("[2001:db8::2]:5060"), ProtoUDP},
		{"tcp6", ap("[2001:db8::1]:5060"), ap("[2001:db8::2]:5060"), ProtoTCP},
		{"mapped v4 stays v4", ap("[::ffff:10.0.0.1]:5060"), ap("10.0.0.2:5060"), ProtoUDP},
		{"mixed families as v6", ap("10.0.0.1:5060"), ap("[2001:db8::2]:5060"), ProtoUDP},
		{"odd payload length", ap("10.0.0.1:5060"), ap("10.0.0.2:5080"), ProtoTCP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder(Options{})
			payload := "OPTIONS sip:x SIP/2.0\r\n\r\n"
			if tt.name == "odd payload length" {
				payload += "x"
			}
			f, err := b.Build(tt.src, tt.dst, tt.proto, t0, []byte(payload))
			if err != nil {
				t.Fatal(err)
			}
			src, dst := tt.src, tt.dst
			if tt.name == "mixed families as v6" {
				src = netip.AddrPortFrom(netip.AddrFrom16(src.Addr().As16()), src.Port())
			}
			checkFrame(t, f, src, dst, tt.proto, payload)
		})
	}
}

func TestBuildErrors(t *testing.T) {
	b := NewBuilder(Options{})
	if _, err := b.Build(netip.AddrPortFrom(netip.Addr{}, 5060), netip.MustParseAddrPort("10.0.0.2:5060"), ProtoUDP, time.Time{}, nil); !errors.Is(err, ErrNoAddress) {
		t.Errorf("no address: %v", err)
	}
	if _, err := b.Build(netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2"), ProtoUDP, time.Time{}, make([]byte, 70000)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
}

func TestSequenceTable(t *testing.T) {
	ap := netip.MustParseAddrPort
	a, c, d := ap("10.0.0.1:5060"), ap("10.0.0.2:5060"), ap("10.0.0.3:5060")
	t0 := time.Unix(1700000000, 0)
	b := NewBuilder(Options{MaxFlows: 2, Idle: time.Minute})
	seq := func(src, dst netip.AddrPort, at time.Time, n int) uint32 {
		t.Helper()
		f, err := b.Build(src, dst, ProtoTCP, at, make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		return checkFrame(t, f, src, dst, ProtoTCP, string(make([]byte, n)))
	}
	if s := seq(a, c, t0, 10); s != 0 {
		t.Errorf("first segment seq %d", s)
	}
	if s := seq(a, c, t0, 5); s != 10 {
		t.Errorf("second segment seq %d, want 10", s)
	}
	if s := seq(c, a, t0, 7); s != 0 {
		t.Errorf("other direction seq %d, want 0", s)
	}
	// A third direction evicts the least recently used (a->c).
	seq(a, d, t0.Add(time.Second), 1)
	if st := b.Stats(); st.Evicted != 1 || st.Flows != 2 {
		t.Errorf("after eviction %+v", st)
	}
	if s := seq(a, c, t0.Add(2*time.Second), 3); s != 0 {
		t.Errorf("evicted direction restarts at %d, want 0", s)
	}
	// Packet time two minutes on: everything idle expires.
	seq(d, a, t0.Add(3*time.Minute), 1)
	if st := b.Stats(); st.Expired != 2 || st.Flows != 1 || st.Evicted != 2 || st.Frames != 6 {
		t.Errorf("after expiry %+v", st)
	}
}

func TestBuildAllocs(t *testing.T) {
	b := NewBuilder(Options{})
	src, dst := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	payload := make([]byte, 600)
	t0 := time.Unix(1700000000, 0)
	for _, proto := range []uint8{ProtoUDP, ProtoTCP} {
		_, _ = b.Build(src, dst, proto, t0, payload)
		if n := testing.AllocsPerRun(100, func() { _, _ = b.Build(src, dst, proto, t0, payload) }); n != 0 {
			t.Errorf("proto %d: Build allocs = %v", proto, n)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	bl := NewBuilder(Options{})
	src, dst := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	payload := make([]byte, 600)
	t0 := time.Unix(1700000000, 0)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = bl.Build(src, dst, ProtoTCP, t0, payload)
	}
}
