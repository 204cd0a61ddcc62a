package heptransport

import (
	"net/netip"
	"time"

	"github.com/voiptool/voiptool/hep"
)

// IANA protocol numbers for the transport argument of SIPPacket.
const (
	ProtoTCP  = 6
	ProtoUDP  = 17
	ProtoSCTP = 132
)

const (
	familyIPv4 = 2  // AF_INET, HEP3 chunk 0x0001
	familyIPv6 = 10 // AF_INET6 as every HEP agent writes it (Linux value)
)

// SIPPacket builds the HEP packet an agent sends for one captured SIP
// message: family from src, IP protocol transport (ProtoUDP, ProtoTCP,
// ProtoSCTP), protocol type SIP, capture time t. Payload aliases payload.
// IPv4-mapped IPv6 addresses are unmapped. Capture id, auth key and node
// name are left for the Sender's options.
func SIPPacket(payload []byte, src, dst netip.AddrPort, t time.Time, transport uint8) hep.Packet {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	dst = netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port())
	fam := uint8(familyIPv4)
	if src.Addr().Is6() {
		fam = familyIPv6
	}
	return hep.Packet{
		Family: fam, Protocol: transport, Src: src, Dst: dst,
		Time: t, ProtoType: hep.ProtoSIP, Payload: payload,
	}
}
