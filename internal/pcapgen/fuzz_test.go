package pcapgen

import (
	"bytes"
	"errors"
	"net/netip"
	"sort"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// FuzzFragment fragments a UDP datagram at an arbitrary size and requires
// that gopacket sees consistent fragments which join back to the input.
func FuzzFragment(f *testing.F) {
	f.Add([]byte("INVITE sip:bob@example.com SIP/2.0\r\n\r\n"), uint16(8), false)
	f.Add(bytes.Repeat([]byte("x"), 1500), uint16(512), true)
	f.Add([]byte{}, uint16(0), false)
	f.Add([]byte("odd"), uint16(13), true)
	f.Fuzz(func(t *testing.T, payload []byte, size uint16, v6 bool) {
		if len(payload) > 8000 {
			return
		}
		src, dst := netip.MustParseAddrPort("192.0.2.1:33333"), netip.MustParseAddrPort("192.0.2.2:33334")
		if v6 {
			src, dst = netip.MustParseAddrPort("[2001:db8::1]:33333"), netip.MustParseAddrPort("[2001:db8::2]:33334")
		}
		dg := UDP(src, dst, 7, payload)
		var frags [][]byte
		var err error
		if v6 {
			frags, err = FragmentIPv6(dg, int(size), 99)
		} else {
			frags, err = FragmentIPv4(dg, int(size))
		}
		if size == 0 || size%8 != 0 {
			if !errors.Is(err, ErrFragmentSize) {
				t.Fatalf("size %d: err = %v, want ErrFragmentSize", size, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		type piece struct {
			off  int
			more bool
			data []byte
		}
		var ps []piece
		for _, fr := range frags {
			if v6 {
				p := gopacket.NewPacket(fr, layers.LayerTypeIPv6, gopacket.Default)
				fh, ok := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
				if !ok {
					t.Fatalf("no fragment header: %v", p)
				}
				ps = append(ps, piece{int(fh.FragmentOffset) * 8, fh.MoreFragments, fh.Payload})
			} else {
				p := gopacket.NewPacket(fr, layers.LayerTypeIPv4, gopacket.Default)
				ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				if !ok || p.ErrorLayer() != nil {
					t.Fatalf("bad fragment: %v", p)
				}
				ps = append(ps, piece{int(ip.FragOffset) * 8, ip.Flags&layers.IPv4MoreFragments != 0, ip.Payload})
			}
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].off < ps[j].off })
		var joined []byte
		for i, p := range ps {
			if p.off != len(joined) || p.more != (i < len(ps)-1) {
				t.Fatalf("fragment %d: offset %d (have %d) more=%v", i, p.off, len(joined), p.more)
			}
			joined = append(joined, p.data...)
		}
		if hl := 20; v6 {
			hl = 40
			_ = hl
			if !bytes.Equal(joined, dg[40:]) {
				t.Fatal("IPv6 reassembly differs")
			}
		} else if !bytes.Equal(joined, dg[hl:]) {
			t.Fatal("IPv4 reassembly differs")
		}
	})
}

// FuzzWSFrame builds a frame and decodes it with the test's independent
// RFC 6455 parser.
func FuzzWSFrame(f *testing.F) {
	f.Add([]byte("REGISTER sip:example.com SIP/2.0\r\n\r\n"), true, uint32(0x37fa213d))
	f.Add(bytes.Repeat([]byte("a"), 126), false, uint32(0))
	f.Add(bytes.Repeat([]byte("b"), 70000), true, uint32(1))
	f.Fuzz(func(t *testing.T, payload []byte, masked bool, key uint32) {
		if len(payload) > 0xffff {
			return // the test parser reads 16-bit lengths only
		}
		var m *[4]byte
		if masked {
			m = &[4]byte{byte(key >> 24), byte(key >> 16), byte(key >> 8), byte(key)}
		}
		fr := WSFrame(true, WSText, m, payload)
		msgs, err := wsMessages(append([]byte("HTTP/1.1 101 x\r\n\r\n"), fr...))
		if err != nil || len(msgs) != 1 || !bytes.Equal(msgs[0], payload) {
			t.Fatalf("round trip: %v, %d messages", err, len(msgs))
		}
	})
}
