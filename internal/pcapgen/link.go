package pcapgen

import (
	"encoding/binary"
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// EtherTypes used here (IEEE 802 numbers).
const (
	EtherTypeIPv4         = 0x0800
	EtherTypeIPv6         = 0x86dd
	EtherTypeDot1Q        = 0x8100 // IEEE 802.1Q C-tag
	EtherTypeQinQ         = 0x88a8 // IEEE 802.1ad S-tag
	EtherTypePPPoESession = 0x8864 // RFC 2516
	EtherTypeERSPAN2      = 0x88be // ERSPAN type II over GRE
	EtherTypeERSPAN3      = 0x22eb // ERSPAN type III over GRE
	EtherTypeTEB          = 0x6558 // transparent Ethernet bridging
)

// Fixed MAC addresses: locally administered so they cannot collide with
// real vendors.
var (
	MACClient = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	MACServer = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
)

func etherTypeOf(ip []byte) uint16 {
	if len(ip) > 0 && ip[0]>>4 == 6 {
		return EtherTypeIPv6
	}
	return EtherTypeIPv4
}

// Ethernet wraps an IP datagram in an Ethernet II frame (no FCS); the
// EtherType follows the IP version. toServer picks the MAC direction.
func Ethernet(ip []byte, toServer bool) []byte {
	src, dst := MACClient, MACServer
	if !toServer {
		src, dst = dst, src
	}
	eth := &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetType(etherTypeOf(ip))}
	return serialize(eth, gopacket.Payload(ip))
}

// EthernetVLAN wraps ip in Ethernet with one 802.1Q tag (vids has one
// element) or, for QinQ, an 802.1ad S-tag followed by an 802.1Q C-tag.
func EthernetVLAN(ip []byte, toServer bool, vids ...uint16) []byte {
	src, dst := MACClient, MACServer
	if !toServer {
		src, dst = dst, src
	}
	b := make([]byte, 0, 14+4*len(vids)+len(ip))
	b = append(b, dst...)
	b = append(b, src...)
	for i, v := range vids {
		tpid := uint16(EtherTypeDot1Q)
		if i == 0 && len(vids) > 1 {
			tpid = EtherTypeQinQ
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, v&0x0fff)
	}
	b = binary.BigEndian.AppendUint16(b, etherTypeOf(ip))
	return append(b, ip...)
}

// PPP protocol numbers (RFC 1661, RFC 5072).
const (
	pppIPv4 = 0x0021
	pppIPv6 = 0x0057
)

// PPPoE wraps ip in Ethernet + a PPPoE session header (RFC 2516 section 4)
// + the 2-byte PPP protocol field.
func PPPoE(ip []byte, toServer bool, session uint16) []byte {
	proto := uint16(pppIPv4)
	if etherTypeOf(ip) == EtherTypeIPv6 {
		proto = pppIPv6
	}
	src, dst := MACClient, MACServer
	if !toServer {
		src, dst = dst, src
	}
	b := make([]byte, 0, 22+len(ip))
	b = append(b, dst...)
	b = append(b, src...)
	b = binary.BigEndian.AppendUint16(b, EtherTypePPPoESession)
	b = append(b, 0x11, 0x00) // version 1, type 1, code 0 (session data)
	b = binary.BigEndian.AppendUint16(b, session)
	b = binary.BigEndian.AppendUint16(b, uint16(2+len(ip))) // PPP payload length
	b = binary.BigEndian.AppendUint16(b, proto)
	return append(b, ip...)
}

// Linux cooked-capture packet types (pcap-linktype(7), LINKTYPE_LINUX_SLL).
const (
	SLLHost     = 0 // to us
	SLLOutgoing = 4 // sent by us
	arphrdEther = 1
)

// SLL wraps ip in a 16-byte Linux cooked v1 header (LINKTYPE_LINUX_SLL 113).
func SLL(ip []byte, pktType uint16) []byte {
	b := make([]byte, 16, 16+len(ip))
	binary.BigEndian.PutUint16(b[0:], pktType)
	binary.BigEndian.PutUint16(b[2:], arphrdEther)
	binary.BigEndian.PutUint16(b[4:], 6)
	copy(b[6:], MACClient)
	binary.BigEndian.PutUint16(b[14:], etherTypeOf(ip))
	return append(b, ip...)
}

// SLL2 wraps ip in a 20-byte Linux cooked v2 header (LINKTYPE_LINUX_SLL2 276).
func SLL2(ip []byte, pktType uint8, ifIndex uint32) []byte {
	b := make([]byte, 20, 20+len(ip))
	binary.BigEndian.PutUint16(b[0:], etherTypeOf(ip))
	binary.BigEndian.PutUint32(b[4:], ifIndex)
	binary.BigEndian.PutUint16(b[8:], arphrdEther)
	b[10] = pktType
	b[11] = 6
	copy(b[12:], MACClient)
	return append(b, ip...)
}

// BSD address families used by DLT_NULL / DLT_LOOP.
const (
	AFInet       = 2
	AFInet6BSD   = 24 // NetBSD/OpenBSD
	AFInet6Linux = 10
)

// Null wraps ip in the 4-byte DLT_NULL header, written in the capturing
// host's byte order; little-endian here, as on x86.
func Null(ip []byte) []byte {
	b := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+len(ip)), family(ip))
	return append(b, ip...)
}

// Loop wraps ip in the 4-byte DLT_LOOP header (always network order).
func Loop(ip []byte) []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(ip)), family(ip))
	return append(b, ip...)
}

func family(ip []byte) uint32 {
	if etherTypeOf(ip) == EtherTypeIPv6 {
		return AFInet6BSD
	}
	return AFInet
}
