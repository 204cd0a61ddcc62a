package filter

import "fmt"

// Link types this package compiles for (tcpdump.org LINKTYPE_ values).
const (
	LinkTypeEthernet = 1   // DLT_EN10MB
	LinkTypeRaw      = 101 // LINKTYPE_RAW: packets start with IPv4 or IPv6
	LinkTypeRaw12    = 12  // DLT_RAW on most systems, written as such by some tools
	LinkTypeRaw14    = 14  // DLT_RAW on OpenBSD
	LinkTypeLinuxSLL = 113 // Linux cooked v1 ("any")
	LinkTypeIPv4     = 228 // raw IPv4 only
	LinkTypeIPv6     = 229 // raw IPv6 only
	LinkTypeSLL2     = 276 // Linux cooked v2
)

// linkKind is how the network-layer protocol is recognised.
type linkKind uint8

const (
	kindEther linkKind = iota // 16-bit EtherType at offType
	kindRaw                   // IP version nibble of the first byte
	kindIPv4                  // always IPv4
	kindIPv6                  // always IPv6
)

// link is the layout of one link type, as libpcap's off_linktype and
// off_linkpl (which "vlan" shifts for everything parsed after it).
type link struct {
	name    string // tcpdump's -y name, for messages
	kind    linkKind
	offType uint32 // EtherType offset (kindEther)
	offNet  uint32 // network-layer header offset
	vlan    bool   // "vlan" is meaningful (Ethernet)
}

func linkFor(lt uint32) (link, error) {
	switch lt {
	case LinkTypeEthernet:
		return link{name: "EN10MB", kind: kindEther, offType: 12, offNet: 14, vlan: true}, nil
	case LinkTypeLinuxSLL:
		return link{name: "LINUX_SLL", kind: kindEther, offType: 14, offNet: 16}, nil
	case LinkTypeSLL2:
		return link{name: "LINUX_SLL2", kind: kindEther, offType: 0, offNet: 20}, nil
	case LinkTypeRaw, LinkTypeRaw12, LinkTypeRaw14:
		return link{name: "RAW", kind: kindRaw}, nil
	case LinkTypeIPv4:
		return link{name: "IPV4", kind: kindIPv4}, nil
	case LinkTypeIPv6:
		return link{name: "IPV6", kind: kindIPv6}, nil
	}
	return link{}, fmt.Errorf("%w %d", ErrLinkType, lt)
}

// TcpdumpName is tcpdump's -y name for a link type this package
// supports ("EN10MB", "LINUX_SLL", "RAW", ...), and whether it is one.
func TcpdumpName(linkType uint32) (string, bool) {
	l, err := linkFor(linkType)
	return l.name, err == nil
}
