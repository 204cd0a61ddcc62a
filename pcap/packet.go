package pcap

import (
	"strconv"
	"time"
)

// LinkType is a capture file's link-layer header type (the tcpdump.org
// LINKTYPE_ registry). It is 32 bits wide because the pcap file header
// carries it that way; only the low 16 bits name the type.
type LinkType uint32

// Link types voiptool decodes. Values from https://www.tcpdump.org/linktypes.html.
const (
	LinkTypeNull     LinkType = 0   // BSD loopback: 4-byte host-order address family
	LinkTypeEthernet LinkType = 1   // IEEE 802.3 Ethernet
	LinkTypePPP      LinkType = 9   // PPP (RFC 1661)
	LinkTypeRawOld12 LinkType = 12  // raw IP, DLT_RAW on some BSDs
	LinkTypeRawOld14 LinkType = 14  // raw IP, DLT_RAW on OpenBSD
	LinkTypeRaw      LinkType = 101 // raw IPv4 or IPv6, version nibble decides
	LinkTypeLoop     LinkType = 108 // OpenBSD loopback: 4-byte network-order address family
	LinkTypeLinuxSLL LinkType = 113 // Linux cooked capture v1 (-i any)
	LinkTypeIPv4     LinkType = 228 // raw IPv4
	LinkTypeIPv6     LinkType = 229 // raw IPv6
	LinkTypeSLL2     LinkType = 276 // Linux cooked capture v2 (-i any, newer libpcap)
)

// String names the link type as tshark and tcpdump do, falling back to
// the number so an unknown type is still identifiable in an error.
func (l LinkType) String() string {
	switch l {
	case LinkTypeNull:
		return "NULL"
	case LinkTypeEthernet:
		return "EN10MB"
	case LinkTypePPP:
		return "PPP"
	case LinkTypeRawOld12, LinkTypeRawOld14, LinkTypeRaw:
		return "RAW"
	case LinkTypeLoop:
		return "LOOP"
	case LinkTypeLinuxSLL:
		return "LINUX_SLL"
	case LinkTypeIPv4:
		return "IPV4"
	case LinkTypeIPv6:
		return "IPV6"
	case LinkTypeSLL2:
		return "LINUX_SLL2"
	}
	return "LINKTYPE_" + strconv.FormatUint(uint64(l), 10)
}

// Packet describes one captured record: where it came from in its file
// and when. It carries no bytes; readers return the data beside it.
type Packet struct {
	Timestamp      time.Time
	CaptureLength  int      // bytes present in the record
	Length         int      // bytes on the wire (may be less than CaptureLength in broken files)
	InterfaceIndex int      // index into Reader.Interfaces (across pcapng sections; the IDB id in a one-section file); 0 for classic pcap
	LinkType       LinkType // link type of the record's interface
	Number         int      // 1-based record number within the file
	Offset         int64    // byte offset of the record header in the (decompressed) file
}
