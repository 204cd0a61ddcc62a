package frame

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// FuzzBuild builds frames from fuzzed addresses, ports, protocol and
// payload, and checks each against the hand decoder of builder_test.go:
// lengths, IPv4 header and L4 checksums, ports, and the payload back.
func FuzzBuild(f *testing.F) {
	f.Add([]byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}, uint16(5060), uint16(5080), uint8(ProtoUDP), []byte("OPTIONS sip:a SIP/2.0\r\n\r\n"))
	f.Add([]byte{10, 0, 0, 1}, []byte{32, 1, 13, 184, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, uint16(1), uint16(2), uint8(ProtoTCP), []byte("x"))
	f.Add([]byte{}, []byte{10, 0, 0, 2}, uint16(0), uint16(0), uint8(132), []byte{})
	f.Fuzz(func(t *testing.T, s, d []byte, sp, dp uint16, proto uint8, payload []byte) {
		addr := func(b []byte) netip.Addr {
			a, _ := netip.AddrFromSlice(b) // invalid unless 4 or 16 bytes
			return a
		}
		src, dst := netip.AddrPortFrom(addr(s), sp), netip.AddrPortFrom(addr(d), dp)
		b := NewBuilder(Options{MaxFlows: 2})
		fr, err := b.Build(src, dst, proto, time.Unix(1700000000, 0), payload)
		if err != nil {
			if !errors.Is(err, ErrNoAddress) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Build: %v", err)
			}
			return
		}
		if proto != ProtoTCP {
			proto = ProtoUDP
		}
		sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
		if sa.Is4() != da.Is4() {
			sa, da = netip.AddrFrom16(sa.As16()), netip.AddrFrom16(da.As16())
		}
		checkFrame(t, fr, netip.AddrPortFrom(sa, sp), netip.AddrPortFrom(da, dp), proto, string(payload))
	})
}
